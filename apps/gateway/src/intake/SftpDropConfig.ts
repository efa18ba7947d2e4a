/**
 * Configuration of one SFTP drop: the force's server, the outbound folder the gateway polls, and
 * how it decides that a file is complete. The annotations are the documentation. The region
 * config embeds this class, one entry per drop.
 */
import { Ids } from "@encompass/domain"
import { SshHostKey } from "@encompass/plugin-sdk"
import { Duration, Either, Option, ParseResult, Schema } from "effect"
import { compilePattern } from "./internal/sftpSelect.js"

/** A duration written as text, `"30 seconds"`, `"1 minute"`, `"500 millis"`. */
const DurationString = Schema.transformOrFail(
  Schema.String.pipe(
    Schema.pattern(/^\d+(\.\d+)? (nano|micro|milli|second|minute|hour|day|week)s?$/, {
      message: () => "expected a duration such as \"30 seconds\", \"5 minutes\" or \"500 millis\""
    })
  ),
  Schema.DurationFromSelf,
  {
    strict: true,
    decode: (text, _, ast) =>
      Option.match(Duration.decodeUnknown(text), {
        onNone: () => ParseResult.fail(new ParseResult.Type(ast, text, "not a duration")),
        onSome: ParseResult.succeed
      }),
    encode: (duration) => ParseResult.succeed(`${Duration.toMillis(duration)} millis`)
  }
)

const PositiveDuration = DurationString.pipe(
  Schema.filter((duration) => Duration.greaterThan(duration, Duration.zero) || "must be longer than zero")
)

/** A folder under `directory`: relative, and no segment hidden (hidden names are never polled) or `..`. */
const Folder = Schema.NonEmptyString.pipe(
  Schema.filter((folder) =>
    folder.split("/").every((segment) => segment !== "" && !segment.startsWith(".")) ||
    "expected a folder relative to the polled directory, e.g. \"done\", with no \"..\", hidden or empty segment"
  )
)

const Pattern = Schema.NonEmptyString.pipe(
  Schema.filter((pattern) => Either.match(compilePattern(pattern), { onLeft: (problem) => problem, onRight: () => true }))
)

export class SftpDropConfig extends Schema.Class<SftpDropConfig>("SftpDropConfig")({
  version: Schema.optionalWith(Schema.Literal(1), { default: () => 1 as const }).annotations({
    description: "Version of this configuration's schema"
  }),
  source: Ids.SourceId.annotations({
    description: "Id of the source plugin the files are feeds for",
    examples: ["niche-rms" as Ids.SourceId]
  }),
  host: Schema.NonEmptyTrimmedString.annotations({
    description: "The force's SFTP server: host name or IP address",
    examples: ["sftp.force.example"]
  }),
  port: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 65535)), { default: () => 22 }).annotations({
    description: "SSH port of the SFTP server"
  }),
  username: Schema.NonEmptyTrimmedString.annotations({
    description: "Account the gateway logs in as (key authentication only)",
    examples: ["encompass"]
  }),
  privateKey: Schema.NonEmptyString.annotations({
    description: "Path of the gateway's private key file (OpenSSH or PEM format, unencrypted), read at every poll. Its content is never logged",
    examples: ["/etc/encompass/keys/force-sftp_ed25519"]
  }),
  hostKey: SshHostKey.Pinned.annotations({
    description: "The pinned host key: the SHA-256 fingerprint of the server's host key, as `ssh-keygen -lf <key>.pub` prints it. Connections to a server presenting any other key are refused before logging in",
    examples: ["SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"]
  }),
  directory: Schema.NonEmptyString.annotations({
    description: "The force's outbound folder the gateway polls; relative paths start in the account's login folder",
    examples: ["/outbound/encompass", "outbound"]
  }),
  doneFolder: Schema.optionalWith(Folder, { default: () => "done" }).annotations({
    description: "Folder under `directory` a file is moved to once the gateway has stored it; created if missing"
  }),
  failedFolder: Schema.optionalWith(Folder, { default: () => "failed" }).annotations({
    description: "Folder under `directory` a file is moved to when it cannot be taken (too large, unreadable); created if missing"
  }),
  pattern: Schema.optional(Pattern).annotations({
    description: "Which file names to take: a glob (`*` any characters, `?` one character), or a regular expression between slashes. Default: every file. Names ending `.part` and names starting with `.` are never taken",
    examples: ["*.csv", "/^TVP_\\d{8}\\.xml$/i"]
  }),
  pollInterval: Schema.optionalWith(PositiveDuration, { default: () => Duration.minutes(1) }).annotations({
    description: "Pause between the end of one poll and the start of the next"
  }),
  stableFor: Schema.optionalWith(DurationString, { default: () => Duration.seconds(30) }).annotations({
    description: "How long a file's size and modification time must stay unchanged, across at least two polls, before it is taken: the guard against reading a file the force is still writing"
  }),
  maxFileBytes: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 100 * 1024 * 1024 }).annotations({
    description: "Largest file taken, in bytes; a larger one is moved to the failed folder"
  }),
  connectTimeout: Schema.optionalWith(PositiveDuration, { default: () => Duration.seconds(20) }).annotations({
    description: "Time allowed to connect, verify the host key and log in"
  }),
  operationTimeout: Schema.optionalWith(PositiveDuration, { default: () => Duration.seconds(60) }).annotations({
    description: "Time allowed for each SFTP request (list, rename, …) and for each chunk of a download; a stalled connection is dropped and rebuilt at the next poll"
  })
}) {}
