/**
 * A real OpenSSH `sshd` on loopback for tests (DESIGN.md §8): host and client keys made by
 * `ssh-keygen`, the pinned fingerprint as `ssh-keygen -lf` prints it, uploads with OpenSSH's own
 * `sftp` client. The served folders are local, so tests may also write to them directly. Shared by
 * the gateway's SFTP drop tests and the SFTP channel's tests.
 */
import { Context, Effect, Layer, Schedule } from "effect"
import { type ChildProcess, execFile, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

const SSHD = "/usr/sbin/sshd"
// `sftp` (openssh-client) is needed only by `upload`.
const tools = [SSHD, "/usr/bin/ssh-keygen", "/usr/bin/sftp"]
export const missing = tools.filter((tool) => !fs.existsSync(tool))
// Skipped only on a developer machine without OpenSSH; in CI a missing sshd fails the tests.
export const runSshTests = missing.length === 0 || process.env["CI"] === "true"
/** A suite title that says when, and why, the suite is skipped. */
export const titled = (name: string) =>
  runSshTests ? name : `${name} — SKIPPED: ${missing.join(", ")} not installed (apt-get install openssh-server openssh-client)`

export const run = (file: string, args: ReadonlyArray<string>) =>
  Effect.async<string, Error>((resume) => {
    execFile(file, args, { encoding: "utf8", timeout: 30_000 }, (error, stdout, stderr) =>
      resume(error === null ? Effect.succeed(stdout) : Effect.fail(new Error(`${path.basename(file)} failed: ${stderr || error.message}`))))
  })

export const keygen = (file: string) => run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "encompass-test", "-f", file])

/** The fingerprint exactly as an operator would copy it from `ssh-keygen -lf`. */
export const fingerprintOf = (publicKey: string) =>
  Effect.map(run("/usr/bin/ssh-keygen", ["-lf", publicKey]), (out) => out.split(" ")[1] ?? "")

export const freePort = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as net.AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

const banner = (port: number) =>
  Effect.async<boolean>((resume) => {
    const socket = net.connect({ host: "127.0.0.1", port })
    socket.once("data", (data) => {
      socket.destroy()
      resume(Effect.succeed(data.toString("latin1").startsWith("SSH-2.0")))
    })
    socket.once("error", () => resume(Effect.succeed(false)))
  })

/** Established client connections to `port` on this machine, from /proc/net/tcp. */
export const connectionsTo = (port: number): number =>
  fs.readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1).filter((line) => {
    const [, , remote, state] = line.trim().split(/\s+/)
    return state === "01" && remote !== undefined && parseInt(remote.split(":")[1] ?? "", 16) === port
  }).length

export class Sshd extends Context.Tag("@encompass/plugin-testkit/OpenSshd")<Sshd, {
  readonly port: number
  readonly user: string
  readonly clientKey: string
  /** The fingerprint of the host key sshd first started with. */
  readonly hostKey: string
  /** Stops sshd, as a server that goes down would: new connections are refused. */
  readonly stop: Effect.Effect<void>
  /**
   * Starts the stopped sshd again on the same port and folders; with `newHostKey`, under a fresh
   * host key, as a rebuilt or impersonated server would. Gives the fingerprint it now presents.
   */
  readonly start: (options?: { readonly newHostKey?: boolean }) => Effect.Effect<string>
  /** A fresh empty folder served by sshd. */
  readonly folder: (name: string) => string
  /** Uploads with OpenSSH's `sftp` client in batch mode. */
  readonly upload: (local: string, remote: string) => Effect.Effect<void, Error>
  readonly log: () => string
}>() {}

export const SshdLive = Layer.scoped(
  Sshd,
  Effect.gen(function*() {
    if (missing.length > 0) return yield* Effect.dieMessage(`OpenSSH is required in CI: ${missing.join(", ")} not installed`)
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "eg-sshd-"))),
      (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
    )
    const hostKeyFile = path.join(dir, "host_ed25519")
    const clientKey = path.join(dir, "client_ed25519")
    yield* Effect.all([keygen(hostKeyFile), keygen(clientKey)], { concurrency: 2 }).pipe(Effect.orDie)
    fs.copyFileSync(`${clientKey}.pub`, path.join(dir, "authorized_keys"))
    const port = yield* freePort
    const user = os.userInfo().username
    const config = path.join(dir, "sshd_config")
    fs.writeFileSync(config, [
      "ListenAddress 127.0.0.1",
      `Port ${port}`,
      `HostKey ${hostKeyFile}`,
      `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "StrictModes no",
      "UsePAM no",
      `PidFile ${path.join(dir, "sshd.pid")}`,
      "Subsystem sftp internal-sftp",
      ""
    ].join("\n"))
    // sshd's privilege separation wants this directory; as non-root it is not needed.
    yield* Effect.ignore(Effect.try(() => fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 })))
    let log = ""
    let child: ChildProcess | undefined
    const stop = Effect.async<void>((resume) => {
      const running = child
      child = undefined
      if (running === undefined || running.exitCode !== null || running.signalCode !== null) return resume(Effect.void)
      running.once("exit", () => resume(Effect.void))
      running.kill("SIGTERM")
    })
    const launch = Effect.gen(function*() {
      const started = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] })
      started.stderr.on("data", (data: Buffer) => (log += data.toString("utf8")))
      child = started
      yield* banner(port).pipe(
        Effect.filterOrFail((ok) => ok && started.exitCode === null, () => "not listening yet"),
        Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 100 }),
        Effect.orElse(() => Effect.dieMessage(`sshd did not start:\n${log}`))
      )
      return yield* Effect.orDie(fingerprintOf(`${hostKeyFile}.pub`))
    })
    yield* Effect.addFinalizer(() => stop)
    const hostKey = yield* launch
    const start = (options: { readonly newHostKey?: boolean } = {}) =>
      Effect.gen(function*() {
        yield* stop
        if (options.newHostKey === true) {
          fs.rmSync(hostKeyFile, { force: true })
          fs.rmSync(`${hostKeyFile}.pub`, { force: true })
          yield* Effect.orDie(keygen(hostKeyFile))
        }
        return yield* launch
      })
    return {
      port,
      user,
      clientKey,
      hostKey,
      stop,
      start,
      folder: (name) => {
        const folder = path.join(dir, "drops", name)
        fs.mkdirSync(folder, { recursive: true })
        return folder
      },
      upload: (local, remote) => {
        const batch = path.join(dir, `batch-${path.basename(local)}`)
        fs.writeFileSync(batch, `put ${local} ${remote}\n`)
        return Effect.asVoid(run("/usr/bin/sftp", [
          "-b", batch, "-i", clientKey, "-P", String(port),
          "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes",
          `${user}@127.0.0.1`
        ]))
      },
      log: () => log
    }
  })
)

