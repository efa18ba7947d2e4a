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

// The regional service (apps/gateway) is an app the `encompass` command launches; it carries
// type:service so apps/cli may import it, and nothing imports apps/cli.
const appDependsOn = ["type:service", "type:pipeline", "type:policy", "type:directory", "type:store", "type:audit", "type:contract", "type:domain", "type:plugin"]
/** DESIGN.md §2, with `app` the libraries an app may import. */
const constraints = (app) => [
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
  { sourceTag: "type:app", onlyDependOnLibsWithTags: app },
  { sourceTag: "type:tool", onlyDependOnLibsWithTags: ["*"] }
]
const moduleBoundaries = (depConstraints) => [
  "error",
  { enforceBuildableLibDependency: false, banTransitiveDependencies: false, depConstraints }
]

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
      "@nx/enforce-module-boundaries": moduleBoundaries(constraints(appDependsOn))
    }
  },
  // An app's tests may also use the plugin-testkit's peers (a real sshd); its production code may not.
  {
    files: ["apps/**/test/**/*.ts"],
    rules: { "@nx/enforce-module-boundaries": moduleBoundaries(constraints([...appDependsOn, "type:testkit"])) }
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
