/**
 * The SFTP drop against a real OpenSSH `sshd` on loopback (DESIGN.md §8): host and client keys
 * made by `ssh-keygen`, the pinned fingerprint as `ssh-keygen -lf` prints it, a feed uploaded
 * with OpenSSH's own `sftp` client. The server's folders are local, so tests also write to them
 * directly to play a force's exporter mid-write.
 */
import { AuditLog } from "@encompass/audit"
import { FeedInbox } from "@encompass/pipeline"
import { OpenSshd } from "@encompass/plugin-testkit"
import { SqlError } from "@encompass/store"
import { Sql, Vault } from "@encompass/store"
import { describe, expect, layer } from "@effect/vitest"
import { Context, Deferred, Effect, Exit, Layer, Schedule, Schema, Scope, Stream } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as SftpDrop from "../src/intake/SftpDrop.js"
import { SftpDropConfig } from "../src/intake/SftpDropConfig.js"

const TestLive = Layer.mergeAll(OpenSshd.SshdLive, AuditLog.layer.pipe(Layer.provideMerge(Layer.mergeAll(Sql.layerTest, Vault.layerTest))))

const configFor = (sshd: Context.Tag.Service<OpenSshd.Sshd>, directory: string, overrides: Record<string, unknown> = {}) =>
  Schema.decodeUnknownSync(SftpDropConfig)({
    source: "niche-rms",
    host: "127.0.0.1",
    port: sshd.port,
    username: sshd.user,
    privateKey: sshd.clientKey,
    hostKey: sshd.hostKey,
    directory,
    stableFor: "300 millis",
    connectTimeout: "10 seconds",
    operationTimeout: "10 seconds",
    ...overrides
  })

/** Longer than `stableFor`. */
const settle = Effect.sleep("400 millis")

/** A drop on a fresh folder, polling into a fresh in-memory inbox. */
const setup = (name: string, overrides: Record<string, unknown> = {}) =>
  Effect.gen(function*() {
    const sshd = yield* OpenSshd.Sshd
    const folder = sshd.folder(name)
    const memory = yield* FeedInbox.makeMemory
    const drop = yield* SftpDrop.make(configFor(sshd, folder, overrides))
    const poll = drop.pollOnce.pipe(Effect.provideService(FeedInbox.FeedInbox, memory.inbox))
    return { sshd, folder, memory, drop, poll }
  })

const listing = (folder: string): ReadonlyArray<string> => fs.readdirSync(folder, { recursive: true }).map(String).sort()

/** Synthetic feed lines: references only, no personal data. */
const feedBytes = (rows: number, seed = "A") =>
  Buffer.from(["occurrence,child", ...Array.from({ length: rows }, (_, i) => `43/${100000 + i}/26,${seed}${i}`)].join("\n") + "\n")

const otherHostKey = "SHA256:x9LN9BkDtL8x4E7JXIbCT7QrB3UX0KX6ClXUAF3FUlg"

describe.skipIf(!OpenSshd.runSshTests)(OpenSshd.titled("SftpDrop against OpenSSH sshd"), () => {
  layer(TestLive, { timeout: 120_000, excludeTestServices: true })((it) => {
    it.effect("a feed uploaded with OpenSSH's sftp is received byte for byte once stable, then moved to done/", () =>
      Effect.gen(function*() {
        const { folder, memory, poll, sshd } = yield* setup("upload")
        const content = feedBytes(500)
        const local = path.join(sshd.folder("staging"), "feed.csv")
        fs.writeFileSync(local, content)
        yield* sshd.upload(local, path.join(folder, "feed.csv"))

        const first = yield* poll
        expect(first).toEqual({ picked: [], unstable: ["feed.csv"], failed: [], stuck: [] })
        yield* settle
        const second = yield* poll

        expect(second.picked).toEqual([
          expect.objectContaining({ name: "feed.csv", bytes: content.byteLength, repeat: false, movedTo: "done/feed.csv" })
        ])
        const feeds = yield* memory.feeds
        expect(feeds.map((feed) => [feed.name, feed.source, feed.transport, Buffer.from(feed.bytes).equals(content)])).toEqual([
          ["feed.csv", "niche-rms", "sftp", true]
        ])
        expect(listing(folder)).toEqual(["done", "done/feed.csv"])
      }))

    it.effect("takes only names matching the pattern, and never *.part or hidden files", () =>
      Effect.gen(function*() {
        const { folder, memory, poll } = yield* setup("pattern", { pattern: "*.csv" })
        for (const name of ["a.csv", "notes.txt", "b.csv.part", ".c.csv"]) fs.writeFileSync(path.join(folder, name), feedBytes(2, name))

        yield* poll
        yield* settle
        const report = yield* poll

        expect(report.picked.map((p) => p.name)).toEqual(["a.csv"])
        expect(report.unstable).toEqual([])
        expect((yield* memory.feeds).map((feed) => feed.name)).toEqual(["a.csv"])
        expect(listing(folder)).toEqual([".c.csv", "b.csv.part", "done", "done/a.csv", "notes.txt"])
      }))

    it.effect("a file still growing is not taken until its size has held for stableFor", () =>
      Effect.gen(function*() {
        const { folder, memory, poll } = yield* setup("growing")
        const file = path.join(folder, "feed.csv")
        fs.writeFileSync(file, feedBytes(100).subarray(0, 1000))

        expect((yield* poll).unstable).toEqual(["feed.csv"])
        fs.appendFileSync(file, feedBytes(100).subarray(1000))
        yield* settle
        const grown = yield* poll
        expect(grown.picked).toEqual([])
        expect(grown.unstable).toEqual(["feed.csv"])
        expect(yield* memory.feeds).toEqual([])

        yield* settle
        const done = yield* poll
        expect(done.picked.map((p) => p.name)).toEqual(["feed.csv"])
        expect((yield* memory.feeds).map((feed) => Buffer.from(feed.bytes).equals(feedBytes(100)))).toEqual([true])
      }))

    it.effect("a feed written as .part is taken only after the rename, and after stableFor", () =>
      Effect.gen(function*() {
        const { folder, memory, poll } = yield* setup("part")
        fs.writeFileSync(path.join(folder, "feed.csv.part"), feedBytes(50))

        yield* poll
        yield* settle
        expect(yield* poll).toEqual({ picked: [], unstable: [], failed: [], stuck: [] })
        fs.renameSync(path.join(folder, "feed.csv.part"), path.join(folder, "feed.csv"))
        expect((yield* poll).unstable).toEqual(["feed.csv"])
        yield* settle
        expect((yield* poll).picked.map((p) => p.name)).toEqual(["feed.csv"])
        expect((yield* memory.feeds).length).toBe(1)
      }))

    it.effect("a server presenting another host key is refused with a HostKey error: nothing is received or moved", () =>
      Effect.gen(function*() {
        const { folder, memory, poll, sshd } = yield* setup("hostkey", { hostKey: otherHostKey })
        fs.writeFileSync(path.join(folder, "feed.csv"), feedBytes(5))

        const first = yield* Effect.flip(poll)
        yield* settle
        const error = yield* Effect.flip(poll)

        expect(first.reason).toBe("HostKey")
        expect(error).toMatchObject({ _tag: "SftpDropError", module: "SftpDrop", method: "connect", reason: "HostKey", retryable: false })
        expect(error.message).toContain(sshd.hostKey)
        expect(error.message).toContain(otherHostKey)
        expect(JSON.stringify(error) + error.message).not.toContain(fs.readFileSync(sshd.clientKey, "utf8").split("\n")[1])
        expect(yield* memory.feeds).toEqual([])
        expect(listing(folder)).toEqual(["feed.csv"])
      }))

    it.effect("a key the server does not accept gives an Auth error", () =>
      Effect.gen(function*() {
        const sshd = yield* OpenSshd.Sshd
        const stranger = path.join(sshd.folder("stranger-key"), "id_ed25519")
        yield* OpenSshd.keygen(stranger)
        const { poll } = yield* setup("auth", { privateKey: stranger })

        const error = yield* Effect.flip(poll)

        expect(error).toMatchObject({ method: "connect", reason: "Auth" })
        expect(error.message).not.toContain(fs.readFileSync(stranger, "utf8").split("\n")[1])
      }))

    it.effect("a missing outbound folder is a Remote error naming it", () =>
      Effect.gen(function*() {
        const sshd = yield* OpenSshd.Sshd
        const folder = path.join(sshd.folder("missing"), "not-there")
        const memory = yield* FeedInbox.makeMemory
        const drop = yield* SftpDrop.make(configFor(sshd, folder))

        const error = yield* drop.pollOnce.pipe(Effect.provideService(FeedInbox.FeedInbox, memory.inbox), Effect.flip)

        expect(error).toMatchObject({ method: "list", reason: "Remote", retryable: true })
        expect(error.message).toContain(folder)
      }))

    it.effect("after a crash between storing and moving, the next poll gets a repeat and moves the file: one feed", () =>
      Effect.gen(function*() {
        const { folder, memory, drop } = yield* setup("crash")
        fs.writeFileSync(path.join(folder, "feed.csv"), feedBytes(20))
        // Stores the feed, then loses the connection before the drop hears back.
        const crashing: FeedInbox.FeedInbox = {
          receive: (feed, transport) =>
            memory.inbox.receive(feed, transport).pipe(
              Effect.zipRight(new SqlError.SqlError({ module: "Test", method: "receive", reason: "Connection", detail: "connection lost after commit" }))
            )
        }

        yield* drop.pollOnce.pipe(Effect.provideService(FeedInbox.FeedInbox, crashing))
        yield* settle
        const crashed = yield* drop.pollOnce.pipe(Effect.provideService(FeedInbox.FeedInbox, crashing), Effect.flip)
        expect(crashed).toMatchObject({ method: "receive", reason: "Store" })
        expect(listing(folder)).toEqual(["feed.csv"])

        const resumed = yield* drop.pollOnce.pipe(Effect.provideService(FeedInbox.FeedInbox, memory.inbox))
        expect(resumed.picked).toEqual([expect.objectContaining({ name: "feed.csv", repeat: true, movedTo: "done/feed.csv" })])
        expect((yield* memory.feeds).length).toBe(1)
        expect(listing(folder)).toEqual(["done", "done/feed.csv"])
      }))

    it.effect("a poll cut short after reading a file never leaves an uncaught error behind (it would stop the gateway)", () =>
      Effect.gen(function*() {
        const { folder, memory, drop } = yield* setup("cut-short")
        fs.writeFileSync(path.join(folder, "feed.csv"), feedBytes(2000))
        // Reads the whole file, then fails: the poll's connection is destroyed while the SFTP
        // handle may still be closing, and that late "No response from server" must be absorbed.
        const failing: FeedInbox.FeedInbox = {
          receive: (feed) =>
            Stream.runDrain(feed.content).pipe(
              Effect.zipRight(new SqlError.SqlError({ module: "Test", method: "receive", reason: "Connection", detail: "store gone" }))
            )
        }
        const uncaught: Array<unknown> = []
        const record = (error: unknown) => void uncaught.push(error)
        process.on("uncaughtException", record)
        yield* drop.pollOnce.pipe(Effect.provideService(FeedInbox.FeedInbox, memory.inbox), Effect.ignore)
        yield* settle
        for (let i = 0; i < 15; i++) yield* Effect.flip(drop.pollOnce.pipe(Effect.provideService(FeedInbox.FeedInbox, failing)))
        yield* Effect.sleep("500 millis")
        process.off("uncaughtException", record)
        expect(uncaught.map(String)).toEqual([])
      }))

    it.effect("the same bytes dropped again are a repeat, moved beside the first under a tagged name", () =>
      Effect.gen(function*() {
        const { folder, memory, poll } = yield* setup("again")
        const drop = () => fs.writeFileSync(path.join(folder, "feed.csv"), feedBytes(20))
        drop()
        yield* poll
        yield* settle
        const first = yield* poll
        drop()
        yield* poll
        yield* settle
        const second = yield* poll

        const sha = first.picked[0]?.sha256 ?? ""
        expect(second.picked).toEqual([expect.objectContaining({ repeat: true, sha256: sha, movedTo: `done/feed.${sha.slice(0, 12)}.csv` })])
        expect((yield* memory.feeds).length).toBe(1)
        expect(listing(folder)).toEqual(["done", `done/feed.${sha.slice(0, 12)}.csv`, "done/feed.csv"])
      }))

    it.effect("an oversized file goes to failed/ and is audited as rejected, while the rest of the drop is taken", () =>
      Effect.gen(function*() {
        const { folder, memory, poll } = yield* setup("oversized", { maxFileBytes: 200 })
        fs.writeFileSync(path.join(folder, "big.csv"), feedBytes(50))
        fs.writeFileSync(path.join(folder, "small.csv"), feedBytes(2))

        yield* poll
        yield* settle
        const report = yield* poll

        expect(report.failed).toEqual([
          { name: "big.csv", bytes: feedBytes(50).byteLength, reason: "TooLarge", detail: expect.stringContaining("over the limit of 200"), movedTo: "failed/big.csv" }
        ])
        expect(report.picked.map((p) => p.name)).toEqual(["small.csv"])
        expect((yield* memory.feeds).map((feed) => feed.name)).toEqual(["small.csv"])
        expect(listing(folder)).toEqual(["done", "done/small.csv", "failed", "failed/big.csv"])
        const log = yield* AuditLog.AuditLog
        const events = yield* Stream.runCollect(log.events({ subjectPrefix: "sftp:niche-rms/big.csv" }))
        expect([...events].map((event) => [event.stage, event.detail])).toEqual([
          ["rejected", expect.objectContaining({ file: "big.csv", bytes: feedBytes(50).byteLength, reason: "TooLarge", movedTo: "failed/big.csv" })]
        ])
      }))

    it.effect("shutting down mid-poll closes the SFTP connection and leaves the file in place", () =>
      Effect.gen(function*() {
        const sshd = yield* OpenSshd.Sshd
        const folder = sshd.folder("shutdown")
        fs.writeFileSync(path.join(folder, "feed.csv"), feedBytes(5))
        const receiving = yield* Deferred.make<void>()
        const stalled: FeedInbox.FeedInbox = { receive: () => Effect.zipRight(Deferred.succeed(receiving, undefined), Effect.never) }
        const scope = yield* Scope.make()
        yield* Layer.buildWithScope(SftpDrop.layer(configFor(sshd, folder, { stableFor: "0 millis", pollInterval: "100 millis" })), scope).pipe(
          Effect.provideService(FeedInbox.FeedInbox, stalled)
        )

        yield* Deferred.await(receiving)
        expect(OpenSshd.connectionsTo(sshd.port)).toBe(1)
        yield* Scope.close(scope, Exit.void)

        const open = yield* Effect.sync(() => OpenSshd.connectionsTo(sshd.port)).pipe(
          Effect.repeat({ until: (n) => n === 0, schedule: Schedule.spaced("50 millis"), times: 20 })
        )
        expect(open).toBe(0)
        expect(listing(folder)).toEqual(["feed.csv"])
      }))
  })
})
