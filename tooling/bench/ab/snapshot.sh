#!/bin/bash
# Snapshot the built @rioco/core and @rioco/sync (packages/*/dist) as variant NAME under
# tooling/bench/ab/.variants/NAME, with sync's imports of @rioco/core pointed at the
# copy, so two builds can run side by side in one process (see pingpong.mjs).
#
#   git worktree add /tmp/old <old commit> && (cd /tmp/old && pnpm install && pnpm build)
#   bash tooling/bench/ab/snapshot.sh before /tmp/old   # the old build
#   bash tooling/bench/ab/snapshot.sh after             # this checkout's build
#   node tooling/bench/ab/pingpong.mjs ch before after
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name=${1:?usage: snapshot.sh NAME [ROOT]}
root=$(cd "${2:-$here/../../..}" && pwd)
dest="$here/.variants/$name"
rm -rf "$dest"
mkdir -p "$dest"
cp -r "$root/packages/core/dist" "$dest/core"
cp -r "$root/packages/sync/dist" "$dest/sync"
grep -rl "'@rioco/core'" "$dest/sync" --include=*.js | xargs sed -i "s#'@rioco/core'#'$dest/core/index.js'#g"
echo "snapshot $name: $dest"
