/**
 * Benchmark of the whole pipeline, feed to delivered mail (issue 5 item 7):
 *
 *   npx tsx tools/bench/pipeline.ts [--incidents 10000] [--store both|embedded|server]
 *     [--per-feed 100] [--rate <incidents/s>] [--database-url postgres://postgres@127.0.0.1:5432/test]
 *     [--graphile-concurrency 10] [--stall-seconds 300] [--cpu-prof <dir>]
 *
 * What runs. The real `encompass serve` (apps/cli/bin/encompass.mjs), as a child process, on a
 * region file written to a temp folder: the Thames Valley agreement, the demo directory and
 * attachment passwords, stock worker settings, and the secure-email channel pointed at a local
 * `smtp-server` sink on loopback that offers STARTTLS with the demo certificate. Synthetic Niche
 * RMS exports (one row per child; every incident has a child at one of the demo directory's six
 * signed-up settings, and every fifth a sibling at another, so an incident gives one or two
 * notifications) are pushed over the HTTP API one after another (or paced with `--rate`). Each
 * takes the real path: HTTP push → FeedInbox.receive (sealed, stored, audited) → the feed worker's
 * Ingest.process (decode, policy, incident + decisions + notifications + audit per incident) →
 * the delivery worker's Outbox.deliverDue (re-authorise, OpenPGP-encrypt the payload with the
 * school's password, send over STARTTLS through nodemailer's pool, record + audit).
 *
 * Why a child process rather than composing the layers here: the gateway then runs exactly as
 * deployed (its workers, wake-ups, LISTEN/NOTIFY, HTTP intake, connection pool, its own event
 * loop), its peak RSS and CPU are its own, and the sink and the feed generator do not share its
 * single JavaScript thread — in one process the sink's TLS and parsing would be charged to the
 * gateway, which a real relay on another machine is not.
 *
 * What is measured (every figure printed is measured in this run):
 * - throughput: incidents and notifications per second, from the first push to the last mail the
 *   sink accepted;
 * - latency per notification: the sink's 250 answer for its Message-ID minus the moment its feed
 *   was received (the push's 202, sent once FeedInbox.receive committed), p50/p99/max, split at
 *   the notification's `created_at` (queued) into decode wait and outbox wait. Feeds pushed back
 *   to back measure capacity, and their latencies are mostly time in the backlog; `--rate` offers
 *   a steady load below capacity, which measures the latency a feed sees in service;
 * - the gateway's peak RSS (VmHWM of the child) and CPU, the bench process's own peak RSS, the
 *   load average; on server Postgres also the CPU of the gateway's backends and, sampled from
 *   pg_stat_activity, how often a gateway backend waited on a lock (and whether on the audit
 *   chain's head row).
 *
 * Then graphile-worker 0.17.3 on the same database (after the gateway stopped): N no-op jobs
 * added in one `addJobs` (its bulk `add_jobs`), one task that does nothing, `--graphile-concurrency`
 * (default 10, as in research/performance-anchors.md), timed from the add to the last
 * `job:success`. The ratio compares unlike work on purpose: each of our notifications is a CSV
 * decode, a policy decision, about four hash-chained audit appends, a password-based OpenPGP
 * encryption (iterated S2K, ~12 ms of CPU by design) and an SMTP transaction; a graphile job here
 * is a queue row claimed and completed. It says how far the gateway is from the floor a
 * Postgres job queue sets on this machine, not that the gateway's queue is that much slower.
 * On embedded PGlite graphile-worker is tried through @electric-sql/pglite-socket on the gateway's
 * data dir: (1) as the store serves PGlite, one connection; (2) the socket multiplexing 16
 * connections onto PGlite's single backend; (3) the same without prepared statements; (4) one
 * active connection at a time (jobs added first, then a worker with a pool of 2 — its LISTEN
 * client and one — at concurrency 1). What fails is printed; the ratio uses (4) if it ran, since
 * the socket interleaves concurrent connections' protocol messages and (2)/(3) are unsafe.
 *
 * The server database is `--database-url` (or BENCH_DATABASE_URL), where a fresh database is
 * created and dropped; the embedded store is a fresh data dir in the temp folder. The gateway run
 * is the one in this working tree. Runs take minutes at the default size (5 to 10 per store on a
 * 2-core machine); machines are shared, so the load average is printed with the figures.
 * `--cpu-prof <dir>` also profiles the gateway and prints where its main thread spent the run.
 */
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { NicheRmsSource } from "@encompass/source-niche-rms"
import { makeWorkerUtils, run as runGraphile } from "graphile-worker"
import type { Logger as GraphileLogger, Runner, WorkerEvents, WorkerUtils } from "graphile-worker"
import { Logger } from "graphile-worker"
import { type ChildProcess, spawn } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import { EventEmitter } from "node:events"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import postgres from "postgres"
import { SMTPServer } from "smtp-server"

// ---------------------------------------------------------------------------------------------
// Arguments

const usage =
  "usage: npx tsx tools/bench/pipeline.ts [--incidents 10000] [--store both|embedded|server] [--per-feed 100] [--rate <incidents/s>]\n" +
  "         [--database-url postgres://postgres@127.0.0.1:5432/test] [--graphile-concurrency 10] [--stall-seconds 300] [--cpu-prof <dir>]"
const flag = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? undefined : process.argv[i + 1]
}
const positive = (name: string, fallback: number): number => {
  const value = Number(flag(name) ?? fallback)
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`--${name} must be a positive number\n${usage}`)
    process.exit(2)
  }
  return value
}
const incidents = Math.round(positive("incidents", 10_000))
const perFeed = Math.round(positive("per-feed", 100))
const rate = flag("rate") === undefined ? undefined : positive("rate", 1)
const graphileConcurrency = Math.round(positive("graphile-concurrency", 10))
const stallMs = positive("stall-seconds", 300) * 1000
const serverUrl = flag("database-url") ?? process.env["BENCH_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/test"
const cpuProfDir = flag("cpu-prof")
const storeFlag = flag("store") ?? "both"
if (!["both", "embedded", "server"].includes(storeFlag)) {
  console.error(usage)
  process.exit(2)
}
const stores: ReadonlyArray<"embedded" | "server"> = storeFlag === "both" ? ["embedded", "server"] : [storeFlag as "embedded" | "server"]

const root = path.resolve(import.meta.dirname, "../..")
const demo = path.join(root, "apps/cli/demo")
const tls = {
  key: fs.readFileSync(path.join(demo, "tls/sink-key.pem"), "utf8"),
  cert: fs.readFileSync(path.join(demo, "tls/sink-cert.pem"), "utf8")
}
const messageIdDomain = "bench.encompass.example"
const pushToken = randomBytes(24).toString("base64url")

// ---------------------------------------------------------------------------------------------
// Formatting

const int = (n: number) => Math.round(n).toLocaleString("en-GB")
const fixed = (n: number, digits = 1) => n.toLocaleString("en-GB", { minimumFractionDigits: digits, maximumFractionDigits: digits })
const secs = (ms: number) => `${fixed(ms / 1000)} s`
const mb = (bytes: number) => `${int(bytes / (1024 * 1024))} MB`
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(" ")
const line = (label: string, text: string) => console.log(`${label.padEnd(18)}${text}`)
const count = (n: number, noun: string) => `${int(n)} ${noun}${n === 1 ? "" : "s"}`
const quantile = (sorted: ReadonlyArray<number>, q: number): number =>
  sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN)
const spread = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return `p50 ${secs(quantile(sorted, 0.5))}, p99 ${secs(quantile(sorted, 0.99))}, max ${secs(sorted[sorted.length - 1] ?? Number.NaN)}`
}

// ---------------------------------------------------------------------------------------------
// Synthetic Niche RMS feeds: occurrence n (from 1) has a child at setting 100001 + n % 6; every
// fifth also a sibling, a witness, at another signed-up setting. All are school age at the
// incident, not sensitive, standard risk: shared under the TVP agreement, one notification per
// setting. Incidents happened 5 to 54 minutes before their feed is generated, so deadlines (08:30
// on the next school day) lie ahead, as in service: past ones would make the deadline watch
// raise a missed-deadline alert, with its audit event, for every notification still queued.

const header = NicheRmsSource.columns.join(",")
const givenNames = ["Alfie", "Bella", "Cara", "Dan", "Evie", "Finn", "Gwen", "Hal", "Isla", "Jack", "Kit", "Lola"]
const familyNames = ["Testman", "Sample", "Example", "Fakeley", "Mockford", "Dummett", "Placeholder"]
const towns = [["Reading", "RG1"], ["Slough", "SL1"], ["Oxford", "OX1"], ["High Wycombe", "HP11"], ["Milton Keynes", "MK9"]] as const
const pick = <A>(values: ReadonlyArray<A>, n: number): A => values[n % values.length] as A

const occurrenceOf = (n: number) => `43/${String(n).padStart(7, "0")}/26`
const settingsOf = (n: number): ReadonlyArray<string> => (n % 5 === 0 ? [`10000${1 + (n % 6)}`, `10000${1 + ((n + 3) % 6)}`] : [`10000${1 + (n % 6)}`])
const expectedNotifications = Array.from({ length: incidents }, (_, i) => settingsOf(i + 1).length).reduce((a, b) => a + b, 0)
const feeds = Math.ceil(incidents / perFeed)
/** The feed (from 0) that carries occurrence number `n`. */
const feedOfOccurrence = (occurrence: string) => Math.floor((Number(occurrence.split("/")[1]) - 1) / perFeed)

const londonTime = new Intl.DateTimeFormat("en-GB", {
  timeZone: "Europe/London",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23"
})
/** `YYYY-MM-DDTHH:MM` in UK local time, as the export writes it, `minutes` ago. */
const minutesAgo = (minutes: number): string => {
  const part = Object.fromEntries(londonTime.formatToParts(new Date(Date.now() - minutes * 60_000)).map((p) => [p.type, p.value]))
  return `${part["year"]}-${part["month"]}-${part["day"]}T${part["hour"]}:${part["minute"]}`
}

const feedText = (feed: number): string => {
  const rows = [header]
  const first = feed * perFeed + 1
  for (let n = first; n < Math.min(first + perFeed, incidents + 1); n++) {
    const [town, district] = pick(towns, n)
    const address = `"${1 + (n % 120)} Elm Road, ${town}"`
    const postcode = `${district} ${1 + (n % 9)}AB`
    const when = minutesAgo(5 + (n % 50))
    const family = pick(familyNames, n)
    const head = `${occurrenceOf(n)},${when},domestic,${address},${postcode},1`
    settingsOf(n).forEach((urn, c) => {
      const dob = `20${13 + ((n + c) % 7)}-0${1 + ((n + c) % 9)}-1${(n + c) % 9}`
      rows.push(`${head},P-${n}-${c},${pick(givenNames, n + c)},${family},${dob},${address},${postcode},${c === 0 ? "present" : "witness"},${urn},standard,N`)
    })
  }
  return `${rows.join("\n")}\n`
}

// ---------------------------------------------------------------------------------------------
// The schools' relay: smtp-server on loopback with STARTTLS, recording when each Message-ID was
// accepted (the moment it answers 250: from then on the message is the recipient's).

interface Sink {
  readonly port: number
  /** First acceptance time (epoch ms) by Message-ID. */
  readonly arrivals: Map<string, number>
  readonly accepted: () => number
  readonly close: () => Promise<void>
}

const startSink = (): Promise<Sink> => {
  const arrivals = new Map<string, number>()
  let accepted = 0
  const server = new SMTPServer({
    key: tls.key,
    cert: tls.cert,
    authOptional: true,
    logger: false,
    disabledCommands: ["AUTH"],
    onData(stream, _session, callback) {
      let head = ""
      stream.on("data", (chunk: Buffer) => {
        if (head.length < 16_384) head += chunk.toString("latin1")
      })
      stream.on("end", () => {
        const at = Date.now()
        const id = /^message-id:\s*(\S+)/im.exec(head)?.[1] ?? "no-message-id"
        accepted += 1
        if (!arrivals.has(id)) arrivals.set(id, at)
        callback(null, "Saved")
      })
    }
  })
  return new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject)
      server.on("error", () => undefined)
      const address = server.server.address()
      resolve({
        port: typeof address === "object" && address !== null ? address.port : 0,
        arrivals,
        accepted: () => accepted,
        close: () => new Promise<void>((done) => server.close(() => done()))
      })
    })
  })
}

// ---------------------------------------------------------------------------------------------
// The gateway process

const writeRegion = (work: string, sinkPort: number): string => {
  fs.writeFileSync(path.join(work, "email.json"), JSON.stringify({
    host: "127.0.0.1",
    port: sinkPort,
    ca: tls.cert,
    from: "Operation Encompass <encompass@police.example>",
    messageIdDomain,
    senderName: "Bench Police",
    contact: "encompass@police.example"
  }))
  const file = path.join(work, "region.yaml")
  fs.writeFileSync(file, [
    "version: 1",
    "region: bench",
    "dataDir: ./pgdata",
    "masterKeyFile: ./master.key",
    `agreement: ${path.join(root, "libs/isa-policy/agreements/tvp-schools.yaml")}`,
    `directory: ${path.join(demo, "directory.csv")}`,
    "sources:",
    "  - id: niche-rms",
    "channels:",
    "  - id: secure-email",
    "    settings: ./email.json",
    `    passwords: ${path.join(demo, "passwords.json")}`,
    "http:",
    "  port: 0",
    "  tokens:",
    `    - { source: niche-rms, sha256: ${createHash("sha256").update(pushToken).digest("hex")} }`,
    ""
  ].join("\n"))
  fs.writeFileSync(path.join(work, "master.key"), `${randomBytes(32).toString("base64")}\n`, { mode: 0o600 })
  return file
}

interface LogLine {
  readonly message?: unknown
  readonly logLevel?: unknown
  readonly annotations?: Record<string, unknown>
}

interface Gateway {
  readonly child: ChildProcess
  readonly pid: number
  readonly http: string
  readonly exit: Promise<number | null>
  /** Log lines by level, and the last lines written, for when something goes wrong. */
  readonly levels: Map<string, number>
  readonly tail: () => string
  readonly problems: Array<string>
}

const startGateway = async (config: string, databaseUrl: string, work: string): Promise<Gateway> => {
  const args = [
    ...(cpuProfDir === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", path.resolve(cpuProfDir)]),
    path.join(root, "apps/cli/bin/encompass.mjs"),
    "serve",
    "--config",
    config
  ]
  const child = spawn(process.execPath, args, {
    cwd: work,
    env: { ...process.env, DATABASE_URL: databaseUrl, ENCOMPASS_MASTER_KEY: "" },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const lines: Array<string> = []
  const levels = new Map<string, number>()
  const problems: Array<string> = []
  let started: LogLine | undefined
  let pending = ""
  const take = (text: string) => {
    pending += text
    const parts = pending.split("\n")
    pending = parts.pop() ?? ""
    for (const l of parts) {
      lines.push(l)
      if (lines.length > 60) lines.shift()
      if (!l.startsWith("{")) continue
      const parsed = JSON.parse(l) as LogLine
      const level = String(parsed.logLevel)
      levels.set(level, (levels.get(level) ?? 0) + 1)
      if ((level === "ERROR" || level === "WARN" || level === "FATAL") && problems.length < 5) problems.push(l.slice(0, 400))
      if (parsed.message === "gateway started") started = parsed
    }
  }
  child.stdout.on("data", (d: Buffer) => take(d.toString("utf8")))
  child.stderr.on("data", (d: Buffer) => take(d.toString("utf8")))
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  let exited = false
  void exit.then(() => (exited = true))
  const deadline = Date.now() + 120_000
  while (started === undefined) {
    if (exited || Date.now() > deadline) {
      if (!exited) child.kill("SIGKILL")
      throw new Error(`the gateway did not start:\n${lines.join("\n")}`)
    }
    await sleep(100)
  }
  return {
    child,
    pid: child.pid ?? 0,
    http: String(started.annotations?.["http"]),
    exit,
    levels,
    tail: () => lines.join("\n"),
    problems
  }
}

const stopGateway = async (gateway: Gateway) => {
  if (gateway.child.exitCode !== null || gateway.child.signalCode !== null) return gateway.exit
  gateway.child.kill("SIGTERM")
  const code = await Promise.race([gateway.exit, sleep(30_000).then(() => "timeout" as const)])
  if (code !== "timeout") return code
  gateway.child.kill("SIGKILL")
  return gateway.exit
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

// ---------------------------------------------------------------------------------------------
// /proc: peak RSS and CPU of the gateway (and of the Postgres backends serving it)

const clockTicks = 100
const readProc = (pid: number, file: string): string | undefined => {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, "utf8")
  } catch {
    return undefined
  }
}
/** CPU milliseconds (user + system) of a process, if it still runs. */
const cpuMs = (pid: number): number | undefined => {
  const stat = readProc(pid, "stat")
  if (stat === undefined) return undefined
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks
}
const statusKb = (pid: number, key: string): number | undefined => {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(readProc(pid, "status") ?? "")
  return match?.[1] === undefined ? undefined : Number(match[1]) * 1024
}
/** Processes whose parent is `pid`, and theirs (tsx may start helpers). */
const descendants = (pid: number): Array<number> => {
  const children: Array<number> = []
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    const stat = readProc(Number(entry), "stat")
    if (stat === undefined) continue
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
    if (ppid === pid) children.push(Number(entry), ...descendants(Number(entry)))
  }
  return children
}

// ---------------------------------------------------------------------------------------------
// Databases

interface Store {
  readonly kind: "embedded" | "server"
  readonly label: string
  /** The gateway's DATABASE_URL ("" for its embedded store in the region folder). */
  readonly databaseUrl: string
  /** Runs a query once the gateway has stopped (the embedded store allows one process). */
  readonly query: <A>(text: string) => Promise<Array<A>>
  /** While the gateway runs (server only): a second connection for sampling. */
  readonly monitor: postgres.Sql | undefined
  readonly dispose: () => Promise<void>
}

const serverStore = async (): Promise<Store> => {
  const admin = postgres(serverUrl, { max: 1, onnotice: () => undefined })
  const name = `encompass_bench_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`
  await admin.unsafe(`CREATE DATABASE ${name}`)
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  const monitor = postgres(url.toString(), { max: 1, onnotice: () => undefined, connection: { application_name: "encompass-bench" } })
  return {
    kind: "server",
    label: `server Postgres (fresh database ${name} on ${url.host})`,
    databaseUrl: url.toString(),
    query: async <A>(text: string) => (await monitor.unsafe(text)) as unknown as Array<A>,
    monitor,
    dispose: async () => {
      await monitor.end({ timeout: 5 })
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.end({ timeout: 5 })
    }
  }
}

const embeddedStore = (work: string): Store => {
  let db: PGlite | undefined
  const open = async () => (db ??= await PGlite.create(path.join(work, "pgdata")))
  return {
    kind: "embedded",
    label: `embedded PGlite (fresh data dir ${path.join(work, "pgdata")})`,
    databaseUrl: "",
    query: async <A>(text: string) => (await (await open()).query<A>(text)).rows,
    monitor: undefined,
    dispose: async () => {
      await db?.close()
      db = undefined
    }
  }
}

// ---------------------------------------------------------------------------------------------
// --cpu-prof: where the gateway's main thread spent the run, by the innermost frame of a known
// component in each sample's stack (so S2K hashing in node:crypto counts as OpenPGP).

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string }
  readonly children?: ReadonlyArray<number>
}
interface CpuProfile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly startTime: number
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const components: ReadonlyArray<readonly [string, (frame: ProfileNode["callFrame"]) => boolean]> = [
  ["garbage collection", (f) => f.functionName === "(garbage collector)"],
  ["idle (waiting for I/O)", (f) => f.functionName === "(idle)"],
  ["OpenPGP encryption (openpgp; iterated S2K)", (f) => f.url.includes("node_modules/openpgp/")],
  ["PGlite (embedded Postgres, WASM)", (f) => f.url.includes("@electric-sql/pglite") || f.url.startsWith("wasm://")],
  ["SMTP client (nodemailer)", (f) => f.url.includes("node_modules/nodemailer/")],
  ["postgres.js driver", (f) => f.url.includes("node_modules/postgres/")],
  ["decode (source-niche-rms, csv-parse)", (f) => f.url.includes("/plugins/source-niche-rms/") || f.url.includes("node_modules/csv-parse/")],
  ["policy (isa-policy)", (f) => f.url.includes("/libs/isa-policy/")],
  ["audit chain (libs/audit)", (f) => f.url.includes("/libs/audit/")],
  ["pipeline, store, domain libs", (f) => /\/libs\/(pipeline|store|domain|directory|plugin-sdk)\//.test(f.url)],
  ["gateway app, HTTP (@effect/platform)", (f) => f.url.includes("/apps/") || f.url.includes("node_modules/@effect/")],
  ["Effect runtime", (f) => f.url.includes("node_modules/effect/")]
]

/** Self time by component between two monotonic instants (µs, the clock V8's profiles use). */
const summariseProfile = (file: string, from: number, to: number): Array<readonly [string, number]> => {
  const profile = JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const memo = new Map<number, string>()
  const componentOf = (id: number): string => {
    const known = memo.get(id)
    if (known !== undefined) return known
    const node = byId.get(id)
    const own = node === undefined ? undefined : components.find(([, test]) => test(node.callFrame))?.[0]
    const up = parent.get(id)
    const found = own ?? (up === undefined ? "other (Node internals, native)" : componentOf(up))
    memo.set(id, found)
    return found
  }
  const totals = new Map<string, number>()
  let at = profile.startTime
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0
    at += delta
    if (at >= from && at <= to) totals.set(componentOf(id), (totals.get(componentOf(id)) ?? 0) + delta)
  })
  return [...totals].sort((a, b) => b[1] - a[1])
}

// ---------------------------------------------------------------------------------------------
// One pipeline run

interface PipelineResult {
  readonly notificationsPerSecond: number
}

const runPipeline = async (kind: "embedded" | "server"): Promise<{ store: Store; work: string; result: PipelineResult | undefined }> => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `encompass-bench-${kind}-`))
  const store = kind === "server" ? await serverStore() : embeddedStore(work)
  console.log(`\n== ${store.label} ==`)
  line("load average", `${load()} (1, 5, 15 min) at start`)
  const sink = await startSink()
  const config = writeRegion(work, sink.port)
  const bootStarted = Date.now()
  const gateway = await startGateway(config, store.databaseUrl, work)
  line("gateway", `pid ${gateway.pid}, started (migrated) in ${secs(Date.now() - bootStarted)}, HTTP ${gateway.http}`)

  // Sampling: the gateway's RSS and any helper processes; on the server, pg_stat_activity.
  const helpers = new Set<number>()
  let treePeak = 0
  const benchAtStart = process.memoryUsage().rss
  let benchPeak = benchAtStart
  const backendCpu = new Map<number, { first: number; last: number }>()
  const waits = { samples: 0, active: 0, idleInTransaction: 0, inTransactionSamples: 0, lockWaitSamples: 0, lockWaits: 0, auditLockWaits: 0 }
  let sampling = false
  let measuring = false
  const sample = async () => {
    if (sampling) return
    sampling = true
    try {
      for (const pid of descendants(gateway.pid)) helpers.add(pid)
      const tree = [gateway.pid, ...helpers].reduce((sum, pid) => sum + (statusKb(pid, "VmRSS") ?? 0), 0)
      treePeak = Math.max(treePeak, tree)
      benchPeak = Math.max(benchPeak, process.memoryUsage().rss)
      if (store.monitor !== undefined && measuring) {
        const rows = await store.monitor<
          Array<{ pid: number; state: string | null; wait_event_type: string | null; in_transaction: boolean; query: string | null }>
        >`
          SELECT pid, state, wait_event_type, xact_start IS NOT NULL AS in_transaction, left(query, 300) AS query FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'encompass-gateway'`
        waits.samples += 1
        if (rows.some((row) => row.in_transaction)) waits.inTransactionSamples += 1
        let locked = 0
        for (const row of rows) {
          const cpu = cpuMs(row.pid)
          if (cpu !== undefined) {
            const seen = backendCpu.get(row.pid)
            backendCpu.set(row.pid, { first: seen?.first ?? cpu, last: cpu })
          }
          if (row.state === "active") waits.active += 1
          if (row.state === "idle in transaction") waits.idleInTransaction += 1
          if (row.wait_event_type === "Lock") {
            locked += 1
            if (row.query?.includes("audit_head") === true) waits.auditLockWaits += 1
          }
        }
        waits.lockWaits += locked
        if (locked > 0) waits.lockWaitSamples += 1
      }
    } finally {
      sampling = false
    }
  }
  const sampler = setInterval(() => void sample().catch(() => undefined), 200)

  // Backend CPU counts from the push's start: take a first reading now.
  measuring = true
  await sample()
  const cpuAtStart = cpuMs(gateway.pid) ?? 0
  const rssAtStart = statusKb(gateway.pid, "VmRSS") ?? Number.NaN
  const pushes: Array<{ sent: number; acked: number; id: string }> = []
  const started = Date.now()
  const monotonicStart = Number(process.hrtime.bigint() / 1000n)
  let result: PipelineResult | undefined
  try {
    for (let f = 0; f < feeds; f++) {
      if (rate !== undefined) {
        const due = started + (f * perFeed * 1000) / rate
        if (due > Date.now()) await sleep(due - Date.now())
      }
      const body = feedText(f)
      const sent = Date.now()
      const response = await fetch(`http://${gateway.http}/v1/feeds/niche-rms?name=bench-${f}.csv`, {
        method: "POST",
        body,
        headers: { authorization: `Bearer ${pushToken}`, "content-type": "text/csv" }
      })
      const answer = (await response.json()) as { feed?: string }
      if (response.status !== 202) throw new Error(`feed ${f} was answered ${response.status}: ${JSON.stringify(answer)}`)
      pushes.push({ sent, acked: Date.now(), id: String(answer.feed) })
    }
    const pushed = Date.now()

    // Until every notification has reached the relay, or nothing arrives for --stall-seconds.
    let lastCount = -1
    let lastProgress = Date.now()
    while (sink.arrivals.size < expectedNotifications) {
      if (sink.arrivals.size !== lastCount) {
        lastCount = sink.arrivals.size
        lastProgress = Date.now()
      } else if (Date.now() - lastProgress > stallMs) {
        throw new Error(`stalled: ${sink.arrivals.size} of ${expectedNotifications} notifications at the relay, none for ${secs(stallMs)}`)
      }
      if (gateway.child.exitCode !== null) throw new Error("the gateway exited")
      await sleep(100)
    }
    measuring = false
    await sample()
    const cpuAtEnd = cpuMs(gateway.pid) ?? Number.NaN
    const peak = statusKb(gateway.pid, "VmHWM") ?? Number.NaN
    const arrivalTimes = [...sink.arrivals.values()]
    const finished = Math.max(...arrivalTimes)
    const elapsed = finished - started
    const stopCode = await stopGateway(gateway)

    // What the store says, joined with the relay's arrivals.
    const notifications = await store.query<{ reference: string; version: number; occurrence: string; state: string; attempts: number; queued: number }>(
      `SELECT reference, version, occurrence, state, attempts, extract(epoch FROM created_at)::float8 * 1000 AS queued FROM notification`
    )
    const [counts] = await store.query<{ incidents: number; rejections: number; audit: number; processed: number; last_processed: number | null }>(
      `SELECT (SELECT count(*)::int FROM incident) AS incidents, (SELECT count(*)::int FROM rejection) AS rejections,
        (SELECT count(*)::int FROM audit_event) AS audit, (SELECT count(*)::int FROM feed WHERE state = 'processed') AS processed,
        (SELECT extract(epoch FROM max(processed_at))::float8 * 1000 FROM feed) AS last_processed`
    )
    const attempts = await store.query<{ outcome: string; n: number }>(`SELECT outcome, count(*)::int AS n FROM delivery_attempt GROUP BY outcome ORDER BY outcome`)
    const total = [] as Array<number>
    const decodeWait = [] as Array<number>
    const outboxWait = [] as Array<number>
    let unmatched = 0
    for (const n of notifications) {
      const arrived = sink.arrivals.get(`<${n.reference}.v${n.version}@${messageIdDomain}>`)
      const push = pushes[feedOfOccurrence(n.occurrence)]
      if (arrived === undefined || push === undefined) {
        unmatched += 1
        continue
      }
      total.push(arrived - push.acked)
      decodeWait.push(n.queued - push.acked)
      outboxWait.push(arrived - n.queued)
    }
    const delivered = notifications.filter((n) => n.state === "delivered").length
    const pushMs = pushes.map((p) => p.acked - p.sent).sort((a, b) => a - b)
    const gatewayCpu = cpuAtEnd - cpuAtStart

    line(
      "pushed",
      `${count(feeds, "feed")} of ${count(Math.min(perFeed, incidents), "incident")} over HTTP ${rate === undefined ? "back to back" : `paced at ${fixed(rate)} incidents/s`} in ${
        secs(pushed - started)
      } (each push p50 ${int(quantile(pushMs, 0.5))} ms, p99 ${int(quantile(pushMs, 0.99))} ms)`
    )
    line(
      "delivered",
      `${int(sink.arrivals.size)} of ${int(expectedNotifications)} notifications for ${int(counts?.incidents ?? 0)} incidents; ${
        int(sink.accepted() - sink.arrivals.size)
      } re-sends; ${int(delivered)} marked delivered; attempts ${attempts.map((a) => `${a.outcome} ${int(a.n)}`).join(", ")}; ${
        int(counts?.rejections ?? 0)
      } rejections${unmatched > 0 ? `; ${unmatched} not matched to an arrival` : ""}`
    )
    line("elapsed", `${secs(elapsed)} from the first push to the last mail accepted by the relay`)
    line("throughput", `${fixed(incidents / (elapsed / 1000))} incidents/s, ${fixed(expectedNotifications / (elapsed / 1000))} notifications/s`)
    line("latency", `feed received (202) → mail accepted: ${spread(total)}`)
    line("  decode wait", `feed received → notification queued: ${spread(decodeWait)}`)
    line("  outbox wait", `queued → mail accepted: ${spread(outboxWait)}`)
    if (counts?.last_processed !== null && counts?.last_processed !== undefined) {
      const decodeSpan = counts.last_processed - started
      line(
        "decode",
        `${count(counts.processed, "feed")} decided, the last ${secs(decodeSpan)} after the first push (${fixed(incidents / (decodeSpan / 1000))} incidents/s while delivering)`
      )
    }
    line(
      "gateway",
      `peak RSS ${mb(peak)} (${mb(rssAtStart)} idle before the first push)${helpers.size > 0 ? ` (with ${helpers.size} helper process${helpers.size === 1 ? "" : "es"}, peak sum ${mb(treePeak)})` : ""}; CPU ${secs(gatewayCpu)} = ${
        int((gatewayCpu / elapsed) * 100)
      } % of one core over the run; exit code ${stopCode} on SIGTERM`
    )
    if (store.kind === "server") {
      const backend = [...backendCpu.values()].reduce((sum, c) => sum + (c.last - c.first), 0)
      line("postgres", `the gateway's ${backendCpu.size} backends: CPU ${secs(backend)} = ${int((backend / elapsed) * 100)} % of one core`)
      if (waits.samples > 0) {
        line(
          "lock waits",
          `${int(waits.samples)} samples of pg_stat_activity (every 200 ms): a gateway backend waited on a lock in ${
            fixed((waits.lockWaitSamples / waits.samples) * 100)
          } % of them (${int(waits.auditLockWaits)} of ${int(waits.lockWaits)} waits on the audit_head row); a gateway backend was in a transaction in ${
            fixed((waits.inTransactionSamples / waits.samples) * 100)
          } % (an upper bound on how long the head row was held: the writing transactions append to the chain and hold it from their first append to commit); mean ${
            fixed(waits.active / waits.samples, 2)
          } backends active, ${fixed(waits.idleInTransaction / waits.samples, 2)} idle in transaction`
        )
      }
    }
    line("audit", `${int(counts?.audit ?? 0)} events, ${fixed((counts?.audit ?? 0) / expectedNotifications, 2)} per notification`)
    line("bench process", `peak RSS ${mb(benchPeak)} during the run, ${mb(benchAtStart)} at its start (relay sink, feed generator, sampling)`)
    const problems = [...gateway.levels].filter(([level]) => level !== "INFO" && level !== "DEBUG")
    line("gateway log", `${[...gateway.levels].map(([l, n]) => `${l} ${int(n)}`).join(", ")}${problems.length > 0 ? `\n${gateway.problems.join("\n")}` : ""}`)
    line("load average", `${load()} at end`)
    if (cpuProfDir !== undefined) {
      const file = fs.readdirSync(cpuProfDir).find((f) => f.includes(`.${gateway.pid}.0.`) && f.endsWith(".cpuprofile"))
      if (file !== undefined) {
        const shares = summariseProfile(path.join(cpuProfDir, file), monotonicStart, monotonicStart + elapsed * 1000)
        const sum = shares.reduce((n, [, us]) => n + us, 0)
        line("gateway profile", `main thread over the run (${path.join(cpuProfDir, file)}), per notification:`)
        for (const [component, us] of shares) {
          console.log(`  ${fixed((us / sum) * 100).padStart(5)} %  ${fixed(us / 1000 / expectedNotifications, 2).padStart(6)} ms  ${component}`)
        }
      }
    }
    result = { notificationsPerSecond: expectedNotifications / (elapsed / 1000) }
  } catch (error) {
    console.log(`FAILED: ${error instanceof Error ? error.message : String(error)}\n--- last gateway output ---\n${gateway.tail()}`)
    process.exitCode = 1
  } finally {
    clearInterval(sampler)
    await stopGateway(gateway)
    await sink.close()
  }
  return { store, work, result }
}

// ---------------------------------------------------------------------------------------------
// graphile-worker: N no-op jobs on the same database

interface GraphileOutcome {
  readonly ok: boolean
  readonly text: string
  readonly jobsPerSecond?: number
}

/** Errors escaping graphile-worker's promises (a pool client's failure) go to the current attempt. */
let escaped: ((error: unknown) => void) | undefined
process.on("unhandledRejection", (error) => (escaped === undefined ? console.error("unhandled rejection", error) : escaped(error)))
process.on("uncaughtException", (error) => (escaped === undefined ? (console.error(error), process.exit(1)) : escaped(error)))

const describeError = (error: unknown) => (error instanceof Error ? error.message : String(error))

const graphile = async (
  connectionString: string,
  options: {
    readonly schema?: string
    readonly noPreparedStatements?: boolean
    /** One active connection: jobs added first, then a worker with a pool of 2 (LISTEN + one) and concurrency 1. */
    readonly serial?: boolean
  }
): Promise<GraphileOutcome> => {
  // Distinct failures, each with how often it occurred.
  const failed = new Map<string, number>()
  const fail = (where: string) => (error: unknown) => {
    const text = `${where}: ${describeError(error).split("\n")[0]}`
    if (failed.has(text) || failed.size < 6) failed.set(text, (failed.get(text) ?? 0) + 1)
  }
  const failures = () => [...failed].map(([text, n]) => (n > 1 ? `${text} (×${n})` : text))
  escaped = fail("unhandled, in graphile-worker")
  const logger: GraphileLogger = new Logger(() => (level, message) => {
    if (level === "error" || level === "warning") fail(`logged ${level}`)(message)
  })
  const events: WorkerEvents = new EventEmitter() as WorkerEvents
  let completed = 0
  let failedJobs = 0
  events.on("job:success", () => void (completed += 1))
  events.on("job:error", () => void (failedJobs += 1))
  const shared = {
    connectionString,
    logger,
    ...(options.schema === undefined ? {} : { schema: options.schema }),
    ...(options.noPreparedStatements === true ? { noPreparedStatements: true } : {})
  }
  let runner: Runner | undefined
  let utils: WorkerUtils | undefined
  // graphile-worker also reports failures with console.trace / console.error: counted, not shown.
  const consoleMethods = { trace: console.trace, error: console.error }
  console.trace = console.error = (first?: unknown) => fail("printed by graphile-worker")(first)
  let phase = ""
  const serial = options.serial === true
  const concurrency = serial ? 1 : graphileConcurrency
  const startRunner = async () => {
    phase = "run()"
    runner = await runGraphile({
      ...shared,
      ...(serial ? { maxPoolSize: 2 } : {}),
      concurrency,
      noHandleSignals: true,
      events,
      taskList: { noop: async () => undefined }
    })
  }
  try {
    if (!serial) await startRunner()
    phase = "makeWorkerUtils()"
    utils = await makeWorkerUtils({ ...shared, ...(serial ? { maxPoolSize: 1 } : {}) })
    // Its schema is migrated before the clock starts (the runner, started first, already did).
    phase = "migrate()"
    await utils.migrate()
    const specs = Array.from({ length: incidents }, () => ({ identifier: "noop", payload: {} }))
    phase = "addJobs()"
    const started = performance.now()
    await utils.addJobs(specs)
    const added = performance.now()
    if (serial) {
      await utils.release()
      utils = undefined
      await startRunner()
    }
    phase = "waiting for the jobs"
    let last = -1
    let lastProgress = performance.now()
    while (completed < incidents) {
      if (completed !== last) {
        last = completed
        lastProgress = performance.now()
      } else if (performance.now() - lastProgress > 30_000) {
        throw new Error(`stalled at ${completed} of ${incidents} jobs completed (none for 30 s)`)
      }
      await sleep(5)
    }
    const done = performance.now()
    const jobsPerSecond = incidents / ((done - started) / 1000)
    return {
      ok: true,
      jobsPerSecond,
      text: `${int(incidents)} no-op jobs, concurrency ${concurrency}: addJobs (one add_jobs call) ${int(added - started)} ms; add → all completed ${
        secs(done - started)
      } → ${fixed(jobsPerSecond, 0)} jobs/s${failedJobs > 0 ? ` (${failedJobs} job errors)` : ""}${
        failed.size > 0 ? `\n  errors: ${failures().join("; ")}` : ""
      }`
    }
  } catch (error) {
    fail(`${phase} failed`)(error)
    return {
      ok: false,
      text: `FAILS after ${int(completed)} of ${int(incidents)} jobs completed — ${failures().join("; ")}`
    }
  } finally {
    const open: { utils?: WorkerUtils | undefined; runner?: Runner | undefined } = { utils, runner }
    const stopping = Promise.allSettled([open.utils?.release(), open.runner?.stop()])
    await Promise.race([stopping, sleep(10_000)])
    Object.assign(console, consoleMethods)
    escaped = undefined
  }
}

const graphileOnServer = async (store: Store, ours: PipelineResult | undefined) => {
  console.log(`\n== graphile-worker 0.17.3 on the same server database (after the gateway stopped) ==`)
  line("load average", `${load()} at start`)
  const outcome = await graphile(store.databaseUrl, {})
  line("graphile-worker", outcome.text)
  ratio(ours, outcome)
  // graphile-worker ends its pool without waiting: let its connections close before the drop.
  for (let i = 0; i < 100 && store.monitor !== undefined; i++) {
    const [others] = await store.monitor<Array<{ n: number }>>`SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid()`
    if (others?.n === 0) break
    await sleep(100)
  }
}

const graphileOnPglite = async (store: Store, work: string, ours: PipelineResult | undefined) => {
  console.log(`\n== graphile-worker 0.17.3 on the same PGlite data dir (after the gateway stopped), through @electric-sql/pglite-socket ==`)
  line("load average", `${load()} at start`)
  await store.dispose()
  const attempts = [
    { label: "as the store serves PGlite (socket: 1 connection)", maxConnections: 1, noPreparedStatements: false },
    { label: "socket multiplexing 16 connections onto the one backend", maxConnections: 16, noPreparedStatements: false },
    { label: "the same, with graphile's noPreparedStatements", maxConnections: 16, noPreparedStatements: true },
    {
      label: "one active connection: pool of 2 (its LISTEN client + one), concurrency 1, jobs added before the worker starts, noPreparedStatements",
      maxConnections: 4,
      noPreparedStatements: true,
      serial: true
    }
  ]
  let index = 0
  const completed: Array<{ index: number; outcome: GraphileOutcome; serial: boolean }> = []
  for (const attempt of attempts) {
    index += 1
    const db = await PGlite.create(path.join(work, "pgdata"))
    const socket = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: attempt.maxConnections })
    await socket.start()
    try {
      // Each attempt in its own schema, so one that failed leaves no jobs for the next.
      const outcome = await graphile(`postgres://postgres@${socket.getServerConn()}/postgres`, {
        schema: `graphile_worker_${index}`,
        noPreparedStatements: attempt.noPreparedStatements,
        serial: attempt.serial === true
      })
      line(`attempt ${index}`, `${attempt.label}:\n  ${outcome.text}`)
      if (outcome.ok) completed.push({ index, outcome, serial: attempt.serial === true })
    } finally {
      await Promise.race([socket.stop(), sleep(5_000)])
      await Promise.race([db.close(), sleep(5_000)])
    }
  }
  console.log(
    "note              pglite-socket queues each protocol message, keeping one connection's messages together only inside a transaction:\n" +
      "                  with several connections active, one's Parse/Bind/Execute can run between another's, so attempts 2 and 3 are unsafe even\n" +
      "                  when they complete. Attempt 4 keeps one connection active at a time."
  )
  const chosen = completed.find((c) => c.serial) ?? completed[0]
  if (chosen !== undefined) ratio(ours, chosen.outcome, `attempt ${chosen.index}`)
  else line("ratio", "none: graphile-worker completed no run on PGlite")
}

const ratio = (ours: PipelineResult | undefined, theirs: GraphileOutcome, note?: string) => {
  if (ours === undefined || theirs.jobsPerSecond === undefined) return
  const r = ours.notificationsPerSecond / theirs.jobsPerSecond
  line(
    "ratio",
    `gateway ${fixed(ours.notificationsPerSecond)} notifications/s ÷ graphile-worker ${fixed(theirs.jobsPerSecond, 0)} no-op jobs/s = ${
      r.toFixed(4)
    } (graphile ${fixed(1 / r)}× faster${note === undefined ? "" : `; ${note}`}).\n` +
      "                  Unlike work: each notification is a decode, a policy decision, audit appends, an OpenPGP password encryption and an SMTP\n" +
      "                  transaction; each graphile job is a queue row claimed and completed with no work."
  )
}

// ---------------------------------------------------------------------------------------------

console.log(
  `pipeline benchmark: ${count(incidents, "incident")} (${count(expectedNotifications, "notification")}) in ${count(feeds, "Niche RMS feed")}, ` +
    `encompass serve as a child process, secure email (OpenPGP password attachment, STARTTLS) to a local smtp-server`
)
line("machine", `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "unknown"}), Node ${process.version}, load average ${load()}`)

for (const kind of stores) {
  const { result, store, work } = await runPipeline(kind)
  try {
    if (kind === "server") await graphileOnServer(store, result)
    else await graphileOnPglite(store, work, result)
  } finally {
    await store.dispose()
    fs.rmSync(work, { recursive: true, force: true })
  }
}
const bench = process.resourceUsage().maxRSS * 1024
line("\nbench process", `peak RSS ${mb(bench)} (sink, generator, graphile-worker runs and, for PGlite, the reopened data dir)`)
process.exit()
