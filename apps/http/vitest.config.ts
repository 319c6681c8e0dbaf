import { defineProject } from 'vitest/config';
import { riocoProject } from '@rioco/tooling/vitest';

export default defineProject(riocoProject('http'));
