/**
 * `encompass keys rotate`: replaces the region's master key. Every data key is re-wrapped under
 * the new key in one transaction (`KeyRotation`), audited; nothing is re-encrypted. Then the
 * region's key file is replaced by the new key, atomically; with `ENCOMPASS_MASTER_KEY` the
 * operator updates the secret store instead. Stop `serve` first: a process still holding the
 * old key can read nothing sealed after the rotation.
 */
import { Command, Options } from "@effect/cli"
import * as Region from "@encompass/gateway/Region"
import * as RegionConfig from "@encompass/gateway/RegionConfig"
import { KeyRotation } from "@encompass/pipeline"
import { Vault } from "@encompass/store"
import { Console, Effect, Redacted, Schema } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"

export class KeyFileError extends Schema.TaggedError<KeyFileError>()("KeyFileError", {
  file: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `key file ${this.file}: ${this.detail}`
  }
}

const config = Options.file("config", { exists: "yes" }).pipe(Options.withDescription("the region file (YAML)"))
const operator = Options.text("operator").pipe(
  Options.withDefault(os.userInfo().username),
  Options.withDescription("who is acting, for the audit log (default: the login name)")
)
const newKey = Options.file("new-key", { exists: "yes" }).pipe(
  Options.withDescription("the new master key: a file holding 32 bytes as base64 (e.g. `openssl rand -base64 32`)")
)

const readKey = (file: string) =>
  Effect.tryPromise({
    try: () => fs.readFile(file, "utf8"),
    catch: (e) => new KeyFileError({ file, detail: `cannot read (${(e as { code?: string }).code ?? "error"})` })
  }).pipe(Effect.map(Redacted.make))

/** The key file replaced in one rename, readable by its owner alone. */
const replaceKeyFile = (file: string, key: Redacted.Redacted<string>) =>
  Effect.tryPromise({
    try: async () => {
      const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.new`)
      await fs.writeFile(temporary, `${Redacted.value(key).trim()}\n`, { mode: 0o600, flag: "wx" })
      await fs.rename(temporary, file)
    },
    catch: (e) => new KeyFileError({ file, detail: `cannot be replaced (${(e as { code?: string }).code ?? "error"}); the store is re-wrapped under the new key: put it there by hand` })
  })

const rotate = Command.make("rotate", { config, newKey, operator }, ({ config, newKey, operator }) =>
  Effect.gen(function*() {
    const region = yield* RegionConfig.load(config)
    const text = yield* readKey(newKey)
    const next = yield* Effect.flatMap(Vault.parseMasterKey(text), Vault.make)
    const rotated = yield* KeyRotation.rotate(next, operator).pipe(Effect.provide(Region.storageLayer(region)))
    yield* Console.log(
      `Re-wrapped ${rotated.feeds} feed keys, ${rotated.subjects} subject keys and ${rotated.store} store keys: master key ${rotated.from} -> ${rotated.to}`
    )
    if ((process.env["ENCOMPASS_MASTER_KEY"] ?? "") !== "") {
      return yield* Console.log("ENCOMPASS_MASTER_KEY is set: put the new key in its place before the gateway starts again.")
    }
    yield* replaceKeyFile(region.masterKeyFile, text)
    yield* Console.log(`The key file ${region.masterKeyFile} now holds the new key.`)
  })
).pipe(Command.withDescription("re-wrap every data key under a new master key and put it in the region's key file"))

export const command = Command.make("keys").pipe(
  Command.withDescription("the region's master key"),
  Command.withSubcommands([rotate])
)
