// Lint for every TypeScript and JavaScript file of the tree (npm run lint).
// Formatting is Prettier's (eslint-config-prettier turns off the rules it owns).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'build/',
      'build-asan/',
      'node_modules/',
      'bpf/.output/',
      'bench/.build/',
      'tmp/',
      'src/generated/',
      'oclif.manifest.json',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'bin/*.cjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // A stream or timer callback that starts a promise handles its errors itself.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      // node:test's describe() and it() return promises the runner awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', name: ['describe', 'it', 'suite', 'test'], package: 'node:test' },
          ],
        },
      ],
      // oclif's flag parsers and hooks must be async functions, awaiting or not.
      '@typescript-eslint/require-await': 'off',
      // Process names and terminal output are sanitised by matching control characters on purpose.
      'no-control-regex': 'off',
      eqeqeq: ['error', 'always'],
      'prefer-const': 'error',
    },
  },
  {
    // f(...array) puts every element on the stack: Math.min(...rtts) over 200,000 sessions
    // threw "Maximum call stack size exceeded". Loops instead, in everything that handles data.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'CallExpression > SpreadElement',
          message: 'No spread into arguments: a loop (see eslint.config.js).',
        },
        {
          selector: 'NewExpression > SpreadElement',
          message: 'No spread into arguments: a loop (see eslint.config.js).',
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
