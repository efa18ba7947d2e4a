/** Runs the `encompass` command as a user would, in a child process, and collects its output. */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { TestDatabase, Vault } from "@encompass/store"
import { Redacted } from "effect"

export const cliRoot = path.resolve(import.meta.dirname, "..")
/** The `encompass` bundle vitest.shared.ts's globalSetup builds (scripts/Bundle.ts). */
export const bundle = path.join(cliRoot, "dist/encompass.mjs")

export interface Result {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export const encompass = (args: ReadonlyArray<string>, env: Record<string, string | undefined> = {}, cwd = cliRoot): Promise<Result> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      // The bundle, not src/bin.ts through tsx, which would transpile the workspace on every start.
      [bundle, ...args],
      { cwd, env: { ...process.env, ...env }, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr })
    )
  })

/** A fresh database on the DATABASE_URL server for one test, or the embedded store without it. */
export const freshDatabase = TestDatabase.fresh

/** A port nothing listens on: a relay that is down, so every attempt is a retryable transport error. */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })

/** The shipped TVP schools agreement. */
export const tvpAgreement = path.resolve(cliRoot, "../../libs/isa-policy/agreements/tvp-schools.yaml")

export interface RegionOptions {
  /** The folder the region file, its relay settings, store and key go in. */
  readonly work: string
  /** The schools' relay: a mail sink, or a port nothing listens on. */
  readonly relay: { readonly host: string; readonly port: number; readonly ca?: string | undefined }
  /** Default: the demo's directory and passwords. */
  readonly directory?: string | undefined
  readonly passwords?: string | undefined
  /** A Niche field mapping file for the niche-rms source. */
  readonly mapping?: string | undefined
  /** Further sources the region enables beside niche-rms. */
  readonly sources?: ReadonlyArray<string> | undefined
  /** An existing key file to copy: a second region on the same server database must share its key. */
  readonly masterKeyOf?: string | undefined
}

/**
 * Writes a TVP region (`region.yaml`, embedded store `./pgdata` unless DATABASE_URL is set, key
 * `./master.key`) whose secure-email channel sends to `relay`; returns the file's path. The key is
 * written here because with a server database the gateway, rightly, never creates one.
 */
export const writeRegion = (options: RegionOptions): string => {
  const demo = path.join(cliRoot, "demo")
  const key = options.masterKeyOf === undefined ? `${Redacted.value(Vault.generateMasterKey())}\n` : fs.readFileSync(options.masterKeyOf, "utf8")
  fs.writeFileSync(path.join(options.work, "master.key"), key, { mode: 0o600 })
  fs.writeFileSync(path.join(options.work, "email.json"), JSON.stringify({
    host: options.relay.host,
    port: options.relay.port,
    ...(options.relay.ca === undefined ? {} : { ca: options.relay.ca }),
    from: "Operation Encompass <encompass@police.example>",
    messageIdDomain: "encompass.police.example",
    senderName: "Test Police",
    contact: "encompass@police.example"
  }))
  const region = path.join(options.work, "region.yaml")
  fs.writeFileSync(region, [
    "version: 1",
    "region: thames-valley",
    "dataDir: ./pgdata",
    "masterKeyFile: ./master.key",
    `agreement: ${tvpAgreement}`,
    `directory: ${options.directory ?? path.join(demo, "directory.csv")}`,
    "sources:",
    "  - id: niche-rms",
    ...(options.mapping === undefined ? [] : [`    mapping: ${options.mapping}`]),
    ...(options.sources ?? []).map((id) => `  - id: ${id}`),
    "channels:",
    "  - id: secure-email",
    "    settings: ./email.json",
    `    passwords: ${options.passwords ?? path.join(demo, "passwords.json")}`,
    ""
  ].join("\n"))
  return region
}

export interface DownRelayRegion {
  /** The region file, naming the store and key `ingest` used. */
  readonly region: string
  /** The region's folder: its store (embedded), key file and settings. */
  readonly work: string
  /** The server database, when DATABASE_URL is set; else the store is `work/pgdata`. */
  readonly databaseUrl: string | undefined
  /** Runs `encompass` on this region's database (`env` adds to or overrides its environment). */
  readonly run: (args: ReadonlyArray<string>, env?: Record<string, string>) => Promise<Result>
  /** The demo feed's ingest: every notification left queued for a retry. */
  readonly ingested: Result
  readonly cleanUp: () => Promise<void>
}

/**
 * A region in a fresh folder (and database, with DATABASE_URL) whose relay is down, with the
 * demo feed ingested into it: the state the operator commands are tested on.
 */
export const downRelayRegion = async (name: string): Promise<DownRelayRegion> => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `encompass-${name}-`))
  const demo = path.join(cliRoot, "demo")
  const database = await freshDatabase()
  const run = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
    encompass(args, { DATABASE_URL: database.url ?? "", ENCOMPASS_MASTER_KEY: "", ...env })
  const region = writeRegion({ work, relay: { host: "127.0.0.1", port: await closedPort() } })
  // The same store and key as the region file names.
  const ingested = await run(["ingest", "--config", region, path.join(demo, "niche-feed.csv")])
  return {
    region,
    work,
    databaseUrl: database.url,
    run,
    ingested,
    cleanUp: async () => {
      await database.drop()
      fs.rmSync(work, { recursive: true, force: true })
    }
  }
}
