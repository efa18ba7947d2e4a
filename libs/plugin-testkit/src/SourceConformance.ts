/**
 * The conformance suite every source plugin runs (DESIGN.md §3; the Airbyte acceptance-test
 * model): call `suite(options)` once from `test/<Name>.conformance.test.ts`. It proves what the
 * contract promises and the core relies on — bad input gives typed Rejections, never a throw,
 * a defect or a hang; decoding is a pure function of the bytes however they are chunked;
 * rejections carry no personal data; a rejection's replayable `record` reproduces it and stays
 * redacted; a large feed streams in bounded memory; the manifest is valid for this SDK.
 */
import { Incident, Rejection, SpreadsheetCell } from "@encompass/domain"
import { Manifest } from "@encompass/plugin-sdk"
import type { RawFeed, SourcePlugin } from "@encompass/plugin-sdk"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Redacted, Schema, Stream } from "effect"
import { inspect } from "node:util"
import * as Chunks from "./internal/Chunks.js"
import * as Heap from "./internal/Heap.js"

export interface Malformed {
  /** Says what is wrong with it, e.g. `a date of birth that is not a date`. */
  readonly name: string
  readonly content: Uint8Array
}

export interface Options {
  readonly plugin: SourcePlugin.SourcePlugin
  /** A valid feed that decodes to at least one Incident. */
  readonly sample: Uint8Array
  /** Personal data in `sample` (names, dates of birth, addresses): none may appear in a rejection. */
  readonly sensitive: ReadonlyArray<string>
  /** Inputs each of which must give at least one Rejection; they may reuse `sample`'s personal data. */
  readonly malformed: ReadonlyArray<Malformed>
  /** A feed with no records (for a CSV, the header alone): it decodes to nothing at all. */
  readonly headerOnly: Uint8Array
  /** Lazily yields a valid feed of about `bytes` bytes, in chunks, for the streaming check. */
  readonly large: (bytes: number) => Iterable<Uint8Array>
  /** Size of the large feed; 50 MB unless a test says otherwise. */
  readonly largeBytes?: number
  /**
   * How far the live heap may grow while the large feed decodes; 24 MiB unless a test says
   * otherwise. A decoder that kept the feed (50 MB) or its output (more) would exceed it.
   */
  readonly maxHeapGrowthBytes?: number
  /** Time box for each small decode; 10 s unless a test says otherwise. */
  readonly timeoutMillis?: number
  /**
   * Whether the plugin hands rejected records back for replay (`Rejection.record`): then at least
   * one of the malformed inputs must give a rejection with a record. Records that are given are
   * checked either way.
   */
  readonly replayable?: boolean
  /**
   * The sample's first record with a child's given name of `=HYPERLINK("http://x","y")` (OWASP CSV
   * injection): it must be rejected, naming the field. Every source should give one.
   */
  readonly formula?: Uint8Array
  /** Names this run in the test titles, when a plugin runs the suite more than once (another configuration). */
  readonly variant?: string
}

const isIncident = Schema.is(Incident.Incident)
const isRejection = Schema.is(Rejection.Rejection)
const encodeDecoded = Schema.encodeSync(Schema.Array(Schema.Union(Incident.Incident, Rejection.Rejection)))

/**
 * A reason as a replay must reproduce it. Numbers are left out: a reason may point at other
 * records by position ("differs from line 11"), and a replayed record sits at other positions.
 */
const replayReason = (reason: string): string => reason.replace(/\d+/g, "#")

/** A comparable digest of one decoded item: what the core keys incidents and quarantine on. */
const idOf = (item: SourcePlugin.Decoded): string =>
  item._tag === "Incident"
    ? `incident ${item.occurrence} v${item.version}: ${item.children.map((c) => `${c.ref}@${c.locator}`).join(",")}`
    : `rejection ${item.locator}/${item.field ?? ""}`

export const suite = (options: Options): void => {
  const { plugin } = options
  const timeout = options.timeoutMillis ?? 10_000
  const largeBytes = options.largeBytes ?? 50 * 1024 * 1024
  const maxGrowth = options.maxHeapGrowthBytes ?? 24 * 1024 * 1024

  const feedOf = (content: Stream.Stream<Uint8Array, RawFeed.FeedReadError>): RawFeed.RawFeed => ({
    source: plugin.id,
    name: "conformance-feed",
    content
  })

  /** Decodes in a time box; fails the test on a stream failure, a defect, a throw or the box running out. */
  const decode = (chunks: ReadonlyArray<Uint8Array>) =>
    Effect.gen(function*() {
      // Suspended, so a decoder that throws when called shows as a defect rather than escaping.
      const exit = yield* Stream.runCollect(Stream.suspend(() => plugin.decode(feedOf(Chunks.stream(chunks))))).pipe(
        Effect.timeout(timeout),
        Effect.exit
      )
      if (Exit.isFailure(exit)) expect.fail(`decoding did not complete normally: ${String(exit.cause)}`)
      return Chunk.toReadonlyArray(exit.value)
    })

  const rejections = (items: ReadonlyArray<SourcePlugin.Decoded>) => items.filter(isRejection)

  describe(`${plugin.id} source conformance${options.variant === undefined ? "" : ` (${options.variant})`}`, () => {
    it("has a valid manifest, for this SDK, under its own id", () => {
      expect(Schema.is(Manifest.SourceManifest)(plugin.manifest)).toBe(true)
      expect(plugin.manifest.id).toBe(plugin.id)
      expect(Manifest.supports(plugin.manifest.sdk), `sdk range ${plugin.manifest.sdk}`).toBe(true)
    })

    it.live("decodes the sample to Incidents and Rejections only, with at least one Incident", () =>
      Effect.gen(function*() {
        const items = yield* decode([options.sample])
        expect(items.every((item) => isIncident(item) || isRejection(item))).toBe(true)
        expect(items.some(isIncident)).toBe(true)
      }))

    for (const malformed of options.malformed) {
      it.live(`rejects ${malformed.name} with a typed Rejection, never a throw or a hang`, () =>
        Effect.gen(function*() {
          const items = yield* decode([malformed.content])
          expect(items.every((item) => isIncident(item) || isRejection(item))).toBe(true)
          expect(rejections(items).length).toBeGreaterThan(0)
          for (const rejection of rejections(items)) expect(rejection.source).toBe(plugin.id)
        }))
    }

    it.live("decodes no name or address a spreadsheet would run as a formula (OWASP CSV injection)", () =>
      Effect.gen(function*() {
        const feeds = [options.sample, ...options.malformed.map((m) => m.content), ...(options.formula === undefined ? [] : [options.formula])]
        for (const content of feeds) {
          for (const incident of (yield* decode([content])).filter(isIncident)) {
            const values = [incident.address.lines, ...incident.children.flatMap((c) => [c.person.givenName, c.person.familyName, c.homeAddress.lines])]
            for (const value of values) expect(SpreadsheetCell.startsFormula(value), `${incident.occurrence} carries a formula`).toBe(false)
          }
        }
        if (options.formula === undefined) return
        const items = yield* decode([options.formula])
        const rejected = rejections(items)
        expect(rejected.length, "the record with a formula for a name is rejected").toBeGreaterThan(0)
        for (const rejection of rejected) {
          expect(rejection.field, "the rejection names the field").toBeDefined()
          expect(rejection.message).not.toContain("HYPERLINK")
        }
        expect(rejected.some((r) => r.reason.includes(SpreadsheetCell.reason)), "the reason says why").toBe(true)
      }))

    it.live("decodes the same bytes to the same output however they are chunked", () =>
      Effect.gen(function*() {
        for (const content of [options.sample, ...options.malformed.map((m) => m.content)]) {
          const whole = yield* decode([content])
          for (const seed of [1, 2, 3]) {
            expect(yield* decode(Chunks.rechunk(content, seed)), `re-chunked with seed ${seed}`).toEqual(whole)
          }
          expect(yield* decode(Chunks.rechunk(content, 4, 1)), "one byte at a time").toEqual(whole)
        }
      }))

    it.live("gives the same incidents and rejection ids when a feed is decoded again", () =>
      Effect.gen(function*() {
        const first = yield* decode([options.sample])
        const again = yield* decode([options.sample])
        expect(again.map(idOf)).toEqual(first.map(idOf))
        // Every field of every incident, not just its id: a repeat must be recognisable as one.
        expect(encodeDecoded(again.filter(isIncident))).toEqual(encodeDecoded(first.filter(isIncident)))
      }))

    it.live("gives a rejection's record, decoded alone, the same rejection again (replay reproduces it)", () =>
      Effect.gen(function*() {
        let replayed = 0
        for (const content of [options.sample, ...options.malformed.map((m) => m.content)]) {
          for (const rejection of rejections(yield* decode([content]))) {
            if (rejection.record === undefined) continue
            expect(Redacted.isRedacted(rejection.record), "the record is Redacted").toBe(true)
            replayed++
            const again = rejections(yield* decode([new TextEncoder().encode(Redacted.value(rejection.record))]))
            const same = again.filter((r) => r.field === rejection.field && replayReason(r.reason) === replayReason(rejection.reason))
            expect(same.length, `replaying the record of ${rejection.message} gives it again`).toBeGreaterThan(0)
          }
        }
        if (options.replayable === true) expect(replayed, "rejections carrying a record").toBeGreaterThan(0)
      }))

    it.live("never reveals a rejection's record, or any personal data, when the rejection is printed or serialised", () =>
      Effect.gen(function*() {
        for (const content of [options.sample, ...options.malformed.map((m) => m.content)]) {
          for (const rejection of rejections(yield* decode([content]))) {
            const shown = [String(rejection), JSON.stringify(rejection), inspect(rejection, { depth: 5 }), String(rejection.record)]
            for (const text of shown) {
              for (const value of options.sensitive) expect(text, `a printed rejection shows ${value}`).not.toContain(value)
            }
          }
        }
      }))

    it.live("never puts personal data into a rejection's reason, locator, field or message", () =>
      Effect.gen(function*() {
        const sampleText = new TextDecoder().decode(options.sample)
        // Otherwise the check proves nothing.
        for (const value of options.sensitive) expect(sampleText, `the sample holds ${value}`).toContain(value)
        const all = [options.sample, ...options.malformed.map((m) => m.content)]
        let checked = 0
        for (const content of all) {
          for (const rejection of rejections(yield* decode([content]))) {
            checked++
            const said = [rejection.reason, rejection.locator, rejection.field ?? "", rejection.message].join("\n")
            for (const value of options.sensitive) expect(said, `a rejection quotes ${value}`).not.toContain(value)
          }
        }
        expect(checked).toBeGreaterThan(0)
      }))

    it.live("decodes a feed with no records to nothing, and an empty feed to rejections at most", () =>
      Effect.gen(function*() {
        expect(yield* decode([options.headerOnly])).toEqual([])
        expect((yield* decode([])).every(isRejection)).toBe(true)
        expect((yield* decode([new Uint8Array(0)])).every(isRejection)).toBe(true)
      }))

    it.live(`streams a ${Math.round(largeBytes / 1024 / 1024)} MB feed with bounded heap growth`, () =>
      Effect.gen(function*() {
        const every = Math.max(1, Math.floor(largeBytes / 10))
        const baseline = Heap.live()
        let read = 0
        let nextSample = every
        let peak = 0
        // One piece per stream chunk, as a transport delivers them: `fromIterable` alone would
        // pull thousands of pieces into one chunk, decoding the whole feed in one synchronous
        // step that starves the event loop (and vitest's own messages) for a minute.
        const content = Stream.fromIterable(options.large(largeBytes)).pipe(
          Stream.rechunk(1),
          Stream.tap((bytes) =>
            Effect.sync(() => {
              read += bytes.length
              if (read >= nextSample) {
                nextSample += every
                peak = Math.max(peak, Heap.live() - baseline)
              }
            })
          )
        )
        const incidents = yield* plugin.decode(feedOf(content)).pipe(
          Stream.runFold(0, (n, item) => (item._tag === "Incident" ? n + 1 : n))
        )
        expect(read).toBeGreaterThanOrEqual(largeBytes)
        expect(incidents).toBeGreaterThan(0)
        expect(peak, `live heap grew by ${Math.round(peak / 1024 / 1024)} MiB`).toBeLessThan(maxGrowth)
      }), 300_000)
  })
}
