// Lint for every project. The module-boundary rules below hold the dependency direction of
// DESIGN.md §2; tools/test/ModuleBoundaries.test.ts proves they still fire (nrwl/nx#20922).
import nx from "@nx/eslint-plugin"

const ioPackages = [
  "postgres",
  "@electric-sql/*",
  "nodemailer",
  "smtp-server",
  "mailparser",
  "openpgp",
  "ssh2-sftp-client",
  "fhir-kit-client",
  "@effect/platform",
  "@effect/platform-*",
  "@effect/sql",
  "@effect/sql-*"
]
const appOnly = ["@effect/platform-node", "@effect/platform-node-*"]

export default [
  { ignores: ["**/node_modules", "**/dist", "**/.nx", "**/demo-out", "**/.encompass"] },
  ...nx.configs["flat/base"],
  ...nx.configs["flat/typescript"],
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-namespace": "off",
      "@typescript-eslint/no-empty-object-type": "off",
      "@nx/enforce-module-boundaries": [
        "error",
        {
          enforceBuildableLibDependency: false,
          banTransitiveDependencies: false,
          depConstraints: [
            { sourceTag: "type:domain", onlyDependOnLibsWithTags: [], bannedExternalImports: [...ioPackages, ...appOnly] },
            { sourceTag: "type:policy", onlyDependOnLibsWithTags: ["type:domain"], bannedExternalImports: [...ioPackages, ...appOnly] },
            { sourceTag: "type:contract", onlyDependOnLibsWithTags: ["type:domain"], bannedExternalImports: appOnly },
            { sourceTag: "type:directory", onlyDependOnLibsWithTags: ["type:domain"], bannedExternalImports: appOnly },
            { sourceTag: "type:store", onlyDependOnLibsWithTags: ["type:domain"], bannedExternalImports: appOnly },
            { sourceTag: "type:audit", onlyDependOnLibsWithTags: ["type:store", "type:domain"], bannedExternalImports: appOnly },
            {
              sourceTag: "type:pipeline",
              onlyDependOnLibsWithTags: ["type:policy", "type:directory", "type:store", "type:audit", "type:contract", "type:domain"],
              bannedExternalImports: appOnly
            },
            { sourceTag: "type:testkit", onlyDependOnLibsWithTags: ["type:contract", "type:domain"], bannedExternalImports: appOnly },
            { sourceTag: "type:plugin", onlyDependOnLibsWithTags: ["type:contract", "type:domain", "type:testkit"], bannedExternalImports: appOnly },
            // The regional service (apps/gateway) is an app the `encompass` command launches; it
            // carries type:service so apps/cli may import it, and nothing imports apps/cli.
            {
              sourceTag: "type:app",
              onlyDependOnLibsWithTags: ["type:service", "type:pipeline", "type:policy", "type:directory", "type:store", "type:audit", "type:contract", "type:domain", "type:plugin"]
            },
            { sourceTag: "type:tool", onlyDependOnLibsWithTags: ["*"] }
          ]
        }
      ]
    }
  },
  // domain and isa-policy do no I/O: no Node built-ins either.
  {
    files: ["libs/domain/**/*.ts", "libs/isa-policy/src/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["node:*", "fs", "path", "net", "http", "https", "child_process", "os"], message: "domain and isa-policy do no I/O" }] }]
    }
  },
  // Policy is a capability: only isa-policy may mint an AuthorizedNotification (tests may, to feed channels).
  {
    files: ["**/*.ts"],
    ignores: ["libs/isa-policy/**", "libs/domain/**", "**/test/**"],
    rules: {
      "no-restricted-imports": ["error", { paths: [{ name: "@encompass/domain/Authority", message: "only @encompass/isa-policy may authorise a notification" }] }]
    }
  }
]
