// Types for every operation, generated from the committed schema (never written by hand).
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: '../schema.graphql',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**/*'],
  ignoreNoDocuments: true,
  generates: {
    './src/gql/': {
      preset: 'client',
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: 'string', LogPosition: 'number', UUID: 'string', NaiveDate: 'string' },
      },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;
