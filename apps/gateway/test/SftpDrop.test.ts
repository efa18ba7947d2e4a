/**
 * The SFTP drop without an SSH server: its configuration, host key fingerprints, which files it
 * judges complete, and how it fails and carries on when the server is not there or never answers.
 * The drop against a real sshd is `SftpDrop.integration.test.ts`.
 */
import { AuditLog } from "@encompass/audit"
import { FeedInbox } from "@encompass/pipeline"
import { Sql, Vault } from "@encompass/store"
import { afterAll, describe, expect, it, layer } from "@effect/vitest"
import { Duration, Effect, Either, Fiber, HashMap, Layer, Logger, Schema } from "effect"
import { generateKeyPairSync } from "node:crypto"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { asideNames, compilePattern, judge } from "../src/intake/internal/sftpSelect.js"
import type { RemoteFile } from "../src/intake/internal/sftpSelect.js"
import * as SftpDrop from "../src/intake/SftpDrop.js"
import { SftpDropConfig } from "../src/intake/SftpDropConfig.js"

const decode = Schema.decodeUnknownEither(SftpDropConfig)

const minimal = {
  source: "niche-rms",
  host: "sftp.force.example",
  username: "encompass",
  privateKey: "/etc/encompass/keys/force_ed25519",
  hostKey: "SHA256:x9LN9BkDtL8x4E7JXIbCT7QrB3UX0KX6ClXUAF3FUlg",
  directory: "/outbound"
}

describe("SftpDropConfig", () => {
  it("fills in the defaults around the required fields", () => {
    const config = Either.getOrThrow(decode(minimal))
    expect(config).toMatchObject({ version: 1, port: 22, doneFolder: "done", failedFolder: "failed", maxFileBytes: 100 * 1024 * 1024 })
    expect(config.pattern).toBeUndefined()
    expect([config.pollInterval, config.stableFor, config.connectTimeout, config.operationTimeout].map(Duration.toMillis)).toEqual([
      60_000,
      30_000,
      20_000,
      60_000
    ])
  })

  it("reads durations as text and writes them back as text", () => {
    const config = Either.getOrThrow(decode({ ...minimal, pollInterval: "5 minutes", stableFor: "1.5 seconds" }))
    expect(Duration.toMillis(config.pollInterval)).toBe(300_000)
    expect(Schema.encodeSync(SftpDropConfig)(config)).toMatchObject({ pollInterval: "300000 millis", stableFor: "1500 millis" })
  })

  it("refuses a drop without a pinned host key, or with one not in OpenSSH's SHA256 form", () => {
    const { hostKey: _, ...unpinned } = minimal
    for (const config of [unpinned, { ...minimal, hostKey: "" }, { ...minimal, hostKey: "MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48" }]) {
      expect(Either.isLeft(decode(config)), JSON.stringify(config)).toBe(true)
    }
    expect(Either.isRight(decode({ ...minimal, hostKey: `${minimal.hostKey}=` }))).toBe(true)
  })

  it.each([
    ["pollInterval", "soon"],
    ["pollInterval", "0 seconds"],
    ["stableFor", "-1 seconds"],
    ["doneFolder", "../done"],
    ["doneFolder", "/srv/done"],
    ["failedFolder", ".failed"],
    ["failedFolder", "failed/"],
    ["pattern", "/[unclosed/"],
    ["pattern", "/feed/g"],
    ["maxFileBytes", 0],
    ["port", 70000]
  ])("refuses %s = %j", (field, value) => {
    expect(Either.isLeft(decode({ ...minimal, [field]: value }))).toBe(true)
  })

  it("names the problem with a regular expression", () => {
    const result = decode({ ...minimal, pattern: "/[unclosed/" })
    expect(Either.isLeft(result) && String(result.left)).toContain("invalid regular expression")
  })
})

describe("file selection", () => {
  it("matches globs on the whole name, literally apart from * and ?", () => {
    const glob = Either.getOrThrow(compilePattern("feed(?)*.csv"))
    expect(["feed(1).csv", "feed(2)-2026.csv"].map(glob)).toEqual([true, true])
    expect(["feed1.csv", "feed(1).csv.bak", "xfeed(1).csv"].map(glob)).toEqual([false, false, false])
  })

  it("takes a regular expression between slashes, with its flags", () => {
    const regex = Either.getOrThrow(compilePattern("/^TVP_\\d{8}\\.xml$/i"))
    expect(["TVP_20260105.xml", "tvp_20260105.XML", "TVP_2026.xml"].map(regex)).toEqual([true, true, false])
  })

  const file = (name: string, size: number, modifyTime = 1_000_000): RemoteFile => ({ name, size, modifyTime })

  it("takes a file only once a later poll, stableFor after the first, sees the same size and time", () => {
    const first = judge([file("a.csv", 10)], new Map(), 0, 1000)
    expect([first.ready, first.unstable.map((f) => f.name)]).toEqual([[], ["a.csv"]])
    const early = judge([file("a.csv", 10)], first.sightings, 999, 1000)
    expect(early.ready).toEqual([])
    const late = judge([file("a.csv", 10)], early.sightings, 1000, 1000)
    expect(late.ready.map((f) => f.name)).toEqual(["a.csv"])
  })

  it("starts counting again when the size or time changes", () => {
    const first = judge([file("a.csv", 10)], new Map(), 0, 1000)
    const grown = judge([file("a.csv", 20)], first.sightings, 5000, 1000)
    expect(grown.ready).toEqual([])
    const touched = judge([file("a.csv", 20, 2_000_000)], grown.sightings, 10_000, 1000)
    expect(touched.ready).toEqual([])
    expect(judge([file("a.csv", 20, 2_000_000)], touched.sightings, 11_000, 1000).ready.map((f) => f.name)).toEqual(["a.csv"])
  })

  it("needs two polls even with stableFor 0, forgets vanished files, and orders ready files oldest first", () => {
    const first = judge([file("new.csv", 1, 3000), file("old.csv", 1, 1000), file("gone.csv", 1)], new Map(), 0, 0)
    expect(first.ready).toEqual([])
    const second = judge([file("new.csv", 1, 3000), file("old.csv", 1, 1000)], first.sightings, 0, 0)
    expect(second.ready.map((f) => f.name)).toEqual(["old.csv", "new.csv"])
    expect([...second.sightings.keys()].sort()).toEqual(["new.csv", "old.csv"])
  })

  it("moves a file aside under its own name, then tagged before the extension, then tagged and salted", () => {
    expect(asideNames("feed.csv", "0c0be519eae0", "9f1e")).toEqual(["feed.csv", "feed.0c0be519eae0.csv", "feed.0c0be519eae0-9f1e.csv"])
    expect(asideNames("FEED", "0c0be519eae0", "9f1e")[1]).toBe("FEED.0c0be519eae0")
  })
})

/** A throwaway RSA key in PEM form, so connecting gets as far as the server. */
const keyFile = (() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "eg-sftp-unit-"))
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, "id_rsa")
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs1", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } })
  fs.writeFileSync(file, privateKey, { mode: 0o600 })
  return { file, secretLine: privateKey.split("\n")[1] ?? "" }
})()

/** A TCP server that accepts and never says a word: a stalled SSH server. */
const silentServer = Effect.acquireRelease(
  Effect.async<{ readonly server: net.Server; readonly sockets: Set<net.Socket> }>((resume) => {
    const sockets = new Set<net.Socket>()
    const server = net.createServer((socket) => sockets.add(socket))
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ server, sockets })))
  }),
  ({ server, sockets }) =>
    Effect.sync(() => {
      sockets.forEach((socket) => socket.destroy())
      server.close()
    })
).pipe(Effect.map(({ server }) => (server.address() as net.AddressInfo).port))

const closedPort = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as net.AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

const localConfig = (port: number, overrides: Record<string, unknown> = {}) =>
  Schema.decodeUnknownSync(SftpDropConfig)({
    ...minimal,
    host: "127.0.0.1",
    port,
    privateKey: keyFile.file,
    connectTimeout: "500 millis",
    operationTimeout: "500 millis",
    ...overrides
  })

const TestLive = Layer.mergeAll(FeedInbox.layerMemory, AuditLog.layer.pipe(Layer.provideMerge(Layer.mergeAll(Sql.layerTest, Vault.layerTest))))

layer(TestLive, { timeout: 120_000, excludeTestServices: true })("SftpDrop without a server", (it) => {
  it.scoped("a server that never answers the handshake gives a Timeout within connectTimeout", () =>
    Effect.gen(function*() {
      const drop = yield* SftpDrop.make(localConfig(yield* silentServer))
      const started = Date.now()
      const error = yield* Effect.flip(drop.pollOnce)
      expect(error).toMatchObject({ _tag: "SftpDropError", method: "connect", reason: "Timeout", retryable: true })
      expect(Date.now() - started).toBeLessThan(2500)
    }))

  it.effect("a refused connection is a Transport error", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const drop = yield* SftpDrop.make(localConfig(port))
      expect(yield* Effect.flip(drop.pollOnce)).toMatchObject({ method: "connect", reason: "Transport", server: `encompass@127.0.0.1:${port}` })
    }))

  it.effect("a missing private key file is an InvalidConfig error naming the path", () =>
    Effect.gen(function*() {
      const drop = yield* SftpDrop.make(localConfig(22, { privateKey: "/nonexistent/id_ed25519" }))
      const error = yield* Effect.flip(drop.pollOnce)
      expect(error).toMatchObject({ method: "readKey", reason: "InvalidConfig", retryable: false })
      expect(error.message).toContain("/nonexistent/id_ed25519 (ENOENT)")
    }))

  it.effect("run logs each failed poll as a warning, without the key, and keeps polling", () =>
    Effect.gen(function*() {
      const lines: Array<{ readonly level: string; readonly text: string; readonly annotations: Record<string, unknown> }> = []
      const capture = Logger.make(({ annotations, logLevel, message }) => {
        lines.push({ level: logLevel.label, text: JSON.stringify(message), annotations: Object.fromEntries(HashMap.toEntries(annotations)) })
      })
      const fiber = yield* SftpDrop.run(localConfig(yield* closedPort, { pollInterval: "50 millis" })).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
        Effect.fork
      )
      yield* Effect.sleep("400 millis")
      yield* Fiber.interrupt(fiber)

      expect(lines.length).toBeGreaterThanOrEqual(2)
      expect(lines[0]).toMatchObject({
        level: "WARN",
        annotations: { intake: "sftp", source: "niche-rms", method: "connect", reason: "Transport", retryable: true }
      })
      expect(JSON.stringify(lines)).not.toContain(keyFile.secretLine)
    }))
})
