import type { UserWorkspaceConfig } from 'vitest/config';
export function riocoProject(name: string, extra?: Record<string, unknown>): UserWorkspaceConfig;
