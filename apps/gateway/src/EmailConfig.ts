/**
 * The secure-email channel's configuration for a run: the relay settings (a JSON file, or the
 * demo's object) joined with the settings' attachment passwords (a separate JSON file,
 * `{ "123456": "…" }`, kept out of the repository in production). Errors name the file and the
 * field, never a value.
 */
import { SecureEmailConfig } from "@encompass/channel-secure-email"
import { DecodeIssue } from "@encompass/domain"
import { Effect, Schema, Struct } from "effect"
import * as fs from "node:fs/promises"

export class ConfigFileError extends Schema.TaggedError<ConfigFileError>()("ConfigFileError", {
  file: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.file}: ${this.detail}`
  }
}

const readJson = (file: string) =>
  Effect.tryPromise({
    try: () => fs.readFile(file, "utf8"),
    catch: (e) => new ConfigFileError({ file, detail: `cannot read (${e instanceof Error && "code" in e ? String(e.code) : "error"})` })
  }).pipe(
    Effect.flatMap((text) =>
      Effect.try({ try: () => JSON.parse(text) as unknown, catch: () => new ConfigFileError({ file, detail: "not valid JSON" }) })
    )
  )

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * The connection part of the channel's relay settings — host, port, TLS, credentials, From and
 * timeouts — with the channel's own rules and defaults (TLS required; STARTTLS unless `secure`).
 * Other keys (`messageIdDomain`, `senderName` …) are ignored, so the channel's settings file
 * serves as well as a file of its own. The SPOC alerts send with it.
 */
export const RelaySettings = Schema.Struct(Struct.pick(
  SecureEmailConfig.SecureEmailConfig.fields,
  "host",
  "port",
  "secure",
  "ca",
  "rejectUnauthorized",
  "auth",
  "from",
  "connectionTimeoutMs",
  "greetingTimeoutMs",
  "socketTimeoutMs"
))
export type RelaySettings = typeof RelaySettings.Type

/** Reads relay settings (JSON, the channel's format) for sending other than notifications. */
export const loadRelay = (file: string): Effect.Effect<RelaySettings, ConfigFileError> =>
  Effect.gen(function*() {
    const settings = yield* readJson(file)
    if (!isObject(settings)) return yield* new ConfigFileError({ file, detail: "expected a JSON object" })
    return yield* Schema.decodeUnknown(RelaySettings)(settings, { errors: "all" }).pipe(
      Effect.mapError((e) => new ConfigFileError({ file, detail: DecodeIssue.format(DecodeIssue.fromParseError(e)) }))
    )
  })

/** `relay` is the path of the relay settings file, or the settings themselves. */
export const load = (relay: string | Record<string, unknown>, passwordsFile: string) =>
  Effect.gen(function*() {
    const settings = typeof relay === "string" ? yield* readJson(relay) : relay
    const passwords = yield* readJson(passwordsFile)
    const label = typeof relay === "string" ? relay : "email settings"
    if (!isObject(settings)) return yield* new ConfigFileError({ file: label, detail: "expected a JSON object" })
    return yield* Schema.decodeUnknown(SecureEmailConfig.SecureEmailConfig)({ ...settings, passwords }, { errors: "all" }).pipe(
      Effect.mapError((e) => {
        const issues = DecodeIssue.fromParseError(e)
        const inPasswords = issues.every((i) => i.path.startsWith("passwords"))
        return new ConfigFileError({ file: inPasswords ? passwordsFile : label, detail: DecodeIssue.format(issues) })
      })
    )
  })
