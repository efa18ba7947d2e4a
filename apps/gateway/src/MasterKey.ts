/**
 * The region's master key, which wraps every data key that seals personal data at rest
 * (DESIGN.md §4). Production sets `ENCOMPASS_MASTER_KEY` (base64 of 32 bytes) from its secret
 * store, or points at a key file; a key file that does not exist yet is created only when the
 * caller allows it (the demo, a first embedded run), readable by its owner alone.
 */
import { Vault } from "@encompass/store"
import { Effect, Layer, Redacted, Schema } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"

export class MasterKeyError extends Schema.TaggedError<MasterKeyError>()("MasterKeyError", {
  file: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `master key ${this.file}: ${this.detail}`
  }
}

export interface Options {
  readonly file: string
  /** Create the file with a fresh key when it does not exist. */
  readonly create: boolean
}

const code = (e: unknown) => (e instanceof Error && "code" in e ? String(e.code) : "error")

const readOrCreate = (options: Options): Effect.Effect<Redacted.Redacted<string>, MasterKeyError> =>
  Effect.tryPromise({
    try: async () => {
      try {
        return Redacted.make(await fs.readFile(options.file, "utf8"))
      } catch (e) {
        if (code(e) !== "ENOENT" || !options.create) throw e
        await fs.mkdir(path.dirname(options.file), { recursive: true })
        const key = Vault.generateMasterKey()
        // `wx`: two processes starting together must not each write their own key.
        await fs.writeFile(options.file, `${Redacted.value(key)}\n`, { mode: 0o600, flag: "wx" }).catch(async (e: unknown) => {
          if (code(e) !== "EEXIST") throw e
        })
        return Redacted.make(await fs.readFile(options.file, "utf8"))
      }
    },
    catch: (e) =>
      new MasterKeyError({
        file: options.file,
        detail: code(e) === "ENOENT" ? "no such file; set ENCOMPASS_MASTER_KEY or create the key file" : `cannot read (${code(e)})`
      })
  })

/** `ENCOMPASS_MASTER_KEY` when set, else the key file. */
export const vaultLayer = (options: Options): Layer.Layer<Vault.Vault, MasterKeyError | Vault.VaultError> =>
  Layer.effect(
    Vault.Vault,
    Effect.gen(function*() {
      const env = process.env["ENCOMPASS_MASTER_KEY"]
      const text = env !== undefined && env !== "" ? Redacted.make(env) : yield* readOrCreate(options)
      return yield* Vault.make(yield* Vault.parseMasterKey(text))
    })
  )
