/**
 * `encompass serve` as a child process for tests: the region file (the demo agreement, directory
 * and attachment passwords, a local mail sink as the schools' relay), the process itself with
 * its JSON log lines, and the `encompass` operator commands. A test runs the gateway exactly as
 * an operator would, on the store they would point it at (DATABASE_URL, or embedded).
 */
import { AuditLog } from "@encompass/audit"
import { Sql, Vault } from "@encompass/store"
import { Effect, Layer, Redacted } from "effect"
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"

export const gatewayRoot = path.resolve(import.meta.dirname, "../..")
export const cliRoot = path.resolve(gatewayRoot, "../cli")
export const demo = path.join(cliRoot, "demo")
export const tls = {
  key: fs.readFileSync(path.join(demo, "tls/sink-key.pem"), "utf8"),
  cert: fs.readFileSync(path.join(demo, "tls/sink-cert.pem"), "utf8")
}
/** A fixed master key: every gateway process on one database must share it. */
export const masterKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
/** The Message-ID domain the region's email settings name. */
export const messageIdDomain = "encompass.police.example"

export const sha256 = (text: string) => createHash("sha256").update(text).digest("hex")

/** Polls `check` every 200 ms until it holds; the error says what was awaited and `context()`. */
export const until = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000, context: () => string = () => "") => {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${context() === "" ? "" : `:\n${context()}`}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

export interface RelayOptions {
  readonly host: string
  readonly port: number
  readonly ca: string
}

export interface RegionOptions {
  /** Where the region file, its email settings and master key are written (its `pgdata` too). */
  readonly work: string
  readonly relay: RelayOptions
  /** Bearer tokens by source for the HTTP push. */
  readonly tokens: ReadonlyArray<{ readonly source: string; readonly token: string }>
  readonly maxFeedBytes?: number | undefined
  /** Further top-level sections (smtp, sftp), as YAML lines. */
  readonly sections?: ReadonlyArray<string> | undefined
  /** The `workers` section's keys, e.g. `{ feedPoll: "200 millis" }`. */
  readonly workers?: Readonly<Record<string, string>> | undefined
  /** The secure-email channel's `retry` keys, e.g. `{ base: "200 millis", cap: "2 seconds", budget: 6 }`. */
  readonly retry?: Readonly<Record<string, string | number>> | undefined
}

/** Writes the region file (and its email settings and master key) into `work`; returns its path. */
export const writeRegion = (options: RegionOptions): string => {
  const { work } = options
  fs.mkdirSync(work, { recursive: true })
  fs.writeFileSync(path.join(work, "email.json"), JSON.stringify({
    host: options.relay.host,
    port: options.relay.port,
    ca: options.relay.ca,
    from: "Operation Encompass <encompass@police.example>",
    messageIdDomain,
    senderName: "Test Police",
    contact: "encompass@police.example"
  }))
  const workers = Object.entries(options.workers ?? {})
  const file = path.join(work, "region.yaml")
  fs.writeFileSync(file, [
    "version: 1",
    "region: thames-valley",
    "dataDir: ./pgdata",
    "masterKeyFile: ./master.key",
    `agreement: ${path.join(gatewayRoot, "../../libs/isa-policy/agreements/tvp-schools.yaml")}`,
    `directory: ${path.join(demo, "directory.csv")}`,
    "sources:",
    "  - id: niche-rms",
    "channels:",
    "  - id: secure-email",
    "    settings: ./email.json",
    `    passwords: ${path.join(demo, "passwords.json")}`,
    ...(options.retry === undefined ? [] : [`    retry: { ${Object.entries(options.retry).map(([key, value]) => `${key}: ${value}`).join(", ")} }`]),
    "http:",
    "  port: 0",
    ...(options.maxFeedBytes === undefined ? [] : [`  maxFeedBytes: ${options.maxFeedBytes}`]),
    "  tokens:",
    ...options.tokens.map((t) => `    - { source: ${t.source}, sha256: ${sha256(t.token)} }`),
    ...(options.sections ?? []),
    ...(workers.length === 0 ? [] : ["workers:", ...workers.map(([key, value]) => `  ${key}: ${value}`)]),
    ""
  ].join("\n"))
  // The key exists before start, as it must with a server database.
  fs.writeFileSync(path.join(work, "master.key"), `${masterKey}\n`, { mode: 0o600 })
  return file
}

export interface LogEvent {
  readonly message: unknown
  readonly annotations: Record<string, unknown>
}

export interface Gateway {
  readonly process: ChildProcess
  /** Everything the process wrote to stdout and stderr so far. */
  readonly output: () => string
  /** Its JSON log lines, parsed. */
  readonly events: () => ReadonlyArray<LogEvent>
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exit: Promise<number | null>
  /** The HTTP API's `host:port`, from the "gateway started" line. */
  readonly http: string
  /** The "gateway started" line's annotations. */
  readonly started: Record<string, unknown>
}

/**
 * Spawns `encompass serve --config <file>` and waits for its "gateway started" line. With
 * `databaseUrl` undefined the process uses its embedded store.
 */
export const startGateway = async (options: {
  readonly config: string
  readonly databaseUrl: string | undefined
  readonly env?: Readonly<Record<string, string>> | undefined
  readonly startTimeoutMs?: number | undefined
}): Promise<Gateway> => {
  const child = spawn(process.execPath, ["dist/encompass.mjs", "serve", "--config", options.config], {
    cwd: cliRoot,
    env: { ...process.env, DATABASE_URL: options.databaseUrl ?? "", ENCOMPASS_MASTER_KEY: "", ...options.env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout?.on("data", (d: Buffer) => (output += d.toString("utf8")))
  child.stderr?.on("data", (d: Buffer) => (output += d.toString("utf8")))
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  let exited = false
  void exit.then(() => (exited = true))
  const events = () =>
    output.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as LogEvent)
  const startedLine = () => events().find((e) => e.message === "gateway started")
  try {
    await until("the gateway to start", () => {
      if (exited) throw new Error(`the gateway exited before it started:\n${output}`)
      return startedLine() !== undefined
    }, options.startTimeoutMs ?? 90_000, () => output)
  } catch (error) {
    if (child.exitCode === null) child.kill("SIGKILL")
    throw error
  }
  const started = startedLine()?.annotations ?? {}
  return { process: child, output: () => output, events, exit, http: String(started["http"]), started }
}

/** Stops a gateway with `signal` (default SIGKILL) if it still runs; resolves once it has exited. */
export const stopGateway = async (gateway: Gateway, signal: NodeJS.Signals = "SIGKILL") => {
  if (gateway.process.exitCode === null && gateway.process.signalCode === null) gateway.process.kill(signal)
  return gateway.exit
}

/** Runs an `encompass` command the way an operator would. */
export const encompass = (args: ReadonlyArray<string>, databaseUrl: string | undefined) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ["dist/encompass.mjs", ...args], {
      cwd: cliRoot,
      env: { ...process.env, DATABASE_URL: databaseUrl ?? "" },
      timeout: 120_000
    }, (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr }))
  })

/** Pushes a feed over the gateway's HTTP API. */
export const push = (http: string, source: string, body: string, bearer: string | null) =>
  fetch(`http://${http}/v1/feeds/${source}?name=export.csv`, {
    method: "POST",
    body,
    headers: bearer === null ? {} : { authorization: `Bearer ${bearer}` }
  })

/**
 * Runs `f` with the region's store from the test process: the server database at `url`, or the
 * embedded one in `dataDir` — which only one process may open, so the gateway must be stopped.
 */
export const withStore = <A>(
  store: { readonly url: string } | { readonly dataDir: string },
  f: (sql: Sql.Sql) => Effect.Effect<A, unknown, AuditLog.AuditLog>
): Promise<A> =>
  Effect.runPromise(
    Effect.flatMap(Sql.Sql, f).pipe(
      Effect.provide(AuditLog.layer.pipe(
        // The gateways' own master key: the audit chain is keyed by it.
        Layer.provide(Layer.orDie(Layer.unwrapEffect(Effect.map(Vault.parseMasterKey(Redacted.make(masterKey)), Vault.layer)))),
        Layer.provideMerge(Sql.layer("url" in store ? { url: Redacted.make(store.url), max: 2, migrate: false } : { dataDir: store.dataDir, migrate: false }))
      ))
    )
  )
