// ESLint flat config: typescript-eslint "recommended" (syntax only, no type information, so
// it stays fast) plus Nx module boundaries. The tag scheme is explained in
// docs/architecture.md, section "Module boundaries".
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const root = dirname(fileURLToPath(import.meta.url));
// Nx finds its workspace from the cwd; pin it so an editor or a run from elsewhere lints
// against this repository's graph. Must be set before nx is loaded, hence dynamic imports.
process.env.NX_WORKSPACE_ROOT_PATH ??= root; // no trailing slash: nx compares paths as strings
const { createProjectGraphAsync } = await import('nx/src/devkit-exports.js');
const { default: nx } = await import('@nx/eslint-plugin');

// enforce-module-boundaries only reads the cached project graph, and silently skips every
// check when there is none (a fresh `npm ci`) or uses a stale one (a package added since).
// Computing it here (~0.5 s, incremental) makes the rule always check the current tree;
// if the graph cannot be built, lint fails loudly instead of passing unchecked.
await createProjectGraphAsync({ exitOnError: false });

const OURS = ['type:feature', 'type:util', 'type:proto'];

// Who may import whom. A project must satisfy every constraint whose sourceTag it carries;
// one that carries none may depend on nothing of ours. Each project has one scope:* and one
// type:* tag (test/nx/module-boundaries.test.ts checks), so both families always apply.
export const depConstraints = [
  // type: what kind of project it is
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: OURS },
  { sourceTag: 'type:feature', onlyDependOnLibsWithTags: OURS },
  { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util', 'type:proto'] },
  { sourceTag: 'type:proto', onlyDependOnLibsWithTags: ['type:proto'] },
  // scope: which service owns it
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
  { sourceTag: 'scope:teacher', onlyDependOnLibsWithTags: ['scope:teacher', 'scope:shared'] },
  { sourceTag: 'scope:trainer', onlyDependOnLibsWithTags: ['scope:trainer', 'scope:shared'] },
  { sourceTag: 'scope:evaluator', onlyDependOnLibsWithTags: ['scope:evaluator', 'scope:shared'] },
  // layer: the one-way data flow data -> detection -> distill -> trainer; engine is a leaf
  { sourceTag: 'layer:engine', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'layer:data', notDependOnLibsWithTags: ['layer:detection', 'layer:distill'] },
  { sourceTag: 'layer:detection', notDependOnLibsWithTags: ['layer:distill'] },
];

const tsFiles = ['{libs,services,test,scripts}/**/*.{ts,mts,cts}'];
const jsFiles = ['**/*.{js,mjs,cjs}'];

export default defineConfig([
  globalIgnores([
    '**/node_modules/',
    '**/dist/',
    '**/coverage/',
    '.nx/',
    'tmp/',
    'data/',
    'runs/',
    // throwaway files written (and removed) by test/nx/module-boundaries.test.ts, which
    // lints them with ignore: false; never lint a leftover from a killed run
    '**/__boundary_probe_*/',
    '**/__boundary_fakes_*/',
  ]),
  {
    files: [...tsFiles, ...jsFiles],
    extends: [tseslint.configs.recommended],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // tfjs kernels and generated code need the occasional escape hatch; flag, don't block
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
  {
    files: ['{libs,services,test}/**/*.{ts,mts,cts,js,mjs,cjs}'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          enforceBuildableLibDependency: false,
          banTransitiveDependencies: false,
          depConstraints,
        },
      ],
    },
  },
  {
    // test/ and scripts/ belong to no project, so the Nx rule cannot see their imports;
    // still, reach our packages by name (their public entry point), never by a path
    files: ['{test,scripts}/**/*.{ts,mts,cts,js,mjs,cjs}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+(libs|services)/',
              message: 'Import the package by name (e.g. @kd/engine), not by a relative path.',
            },
          ],
        },
      ],
    },
  },
  prettier,
]);
