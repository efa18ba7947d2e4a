/**
 * Hostile XML: entity bombs, external entities, absurd nesting and endless text. Each must end
 * in one clear Rejection, having read little of the feed. The time and heap bounds are generous
 * guards against a blow-up (a bomb expanding, a parser buffering gigabytes), not benchmarks.
 */
import { describe, expect, it } from "@effect/vitest"
import { Ids } from "@encompass/domain"
import type { SourcePlugin } from "@encompass/plugin-sdk"
import { Chunk, Effect, Redacted, Stream } from "effect"
import * as fs from "node:fs"
import { AthenaSource } from "../src/index.js"
import * as Feeds from "./Feeds.js"
import * as Heap from "./Heap.js"

const source = Ids.SourceId.make("athena")
const plugin = AthenaSource.make()

const maxMillis = 3000
const maxHeapGrowth = 8 * 1024 * 1024

interface Run {
  readonly items: ReadonlyArray<SourcePlugin.Decoded>
  readonly millis: number
  /** Bytes the decoder pulled from the feed before it stopped. */
  readonly pulled: number
  /** Most the live heap grew while decoding, sampled every MiB pulled and at the end. */
  readonly heapGrowth: number
}

/** Decodes a feed pulled one chunk at a time, so `pulled` is what the decoder asked for. */
const run = (chunks: IterableIterator<Uint8Array>): Run => {
  const baseline = Heap.live()
  let pulled = 0
  let nextSample = 1024 * 1024
  let heapGrowth = 0
  const content = Stream.fromIteratorSucceed(chunks, 1).pipe(
    Stream.tap((bytes) =>
      Effect.sync(() => {
        pulled += bytes.length
        if (pulled >= nextSample) {
          nextSample += 1024 * 1024
          heapGrowth = Math.max(heapGrowth, Heap.live() - baseline)
        }
      })
    )
  )
  const started = performance.now()
  const items = Chunk.toReadonlyArray(Effect.runSync(Stream.runCollect(plugin.decode({ source, name: "hostile.xml", content }))))
  const millis = performance.now() - started
  return { items, millis, pulled, heapGrowth: Math.max(heapGrowth, Heap.live() - baseline) }
}

/** The one item decoding gave, a rejection, with everything it says and holds as text. */
const onlyRejection = ({ items }: Run) => {
  expect(items.map((item) => item._tag)).toEqual(["Rejection"])
  const [rejection] = items
  if (rejection?._tag !== "Rejection") throw new Error("expected a rejection")
  const record = rejection.record === undefined ? "" : Redacted.value(rejection.record)
  return { ...rejection, message: rejection.message, everything: `${rejection.message}\n${rejection.occurrence ?? ""}\n${record}` }
}

const quick = (result: Run): void => {
  expect(result.millis, `took ${Math.round(result.millis)} ms`).toBeLessThan(maxMillis)
  expect(result.heapGrowth, `live heap grew by ${(result.heapGrowth / 1024 / 1024).toFixed(1)} MiB`).toBeLessThan(maxHeapGrowth)
}

/** `head`, then `filler` repeated to `bytes` in 64 KiB chunks (one buffer, reused), then `tail`. */
function* endless(head: string, filler: string, bytes: number, tail = ""): Generator<Uint8Array> {
  yield Feeds.utf8(head)
  const chunk = Feeds.utf8(filler.repeat(Math.ceil(65_536 / filler.length)))
  for (let sent = 0; sent < bytes; sent += chunk.length) yield chunk
  yield Feeds.utf8(tail)
}

const doctypeRefused = /^the feed has a DOCTYPE declaration: DTDs are refused, since they can declare entities \(an entity bomb, or an external entity that reads a file\); nothing after this point is read$/

const passwd = fs.existsSync("/etc/passwd") ? fs.readFileSync("/etc/passwd", "utf8") : "root:x:0:0:root:/root:/bin/bash\n"
const passwdLines = passwd.split("\n").filter((line) => line.trim().length > 4)

describe("AthenaSource against hostile XML", () => {
  it("refuses a billion-laughs entity bomb at its DOCTYPE, before any entity is expanded", () => {
    const result = run([Feeds.fixture("billion-laughs.xml")].values())
    const rejection = onlyRejection(result)
    expect(rejection.locator).toBe("line 13, column 2")
    expect(rejection.reason).toMatch(doctypeRefused)
    expect(rejection.everything).not.toContain("lollol")
    quick(result)
  })

  it.each([
    ["an internal subset", Feeds.fixture("xxe.xml")],
    ["an external DTD", Feeds.utf8(`<?xml version="1.0"?>\n<!DOCTYPE AthenaExport SYSTEM "file:///etc/passwd">\n<AthenaExport schemaVersion="1"/>`)],
    ["a parameter entity", Feeds.utf8(`<!DOCTYPE AthenaExport [<!ENTITY % x SYSTEM "file:///etc/passwd"> %x;]>\n<AthenaExport schemaVersion="1"/>`)]
  ])("refuses an external entity declared in %s, and never reads the file", (_name, bytes) => {
    const result = run([bytes].values())
    const rejection = onlyRejection(result)
    expect(rejection.reason).toMatch(doctypeRefused)
    expect(rejection.everything).not.toContain("/etc/passwd")
    for (const line of passwdLines) expect(rejection.everything).not.toContain(line)
    quick(result)
  })

  it("treats a reference to an entity no DTD declares as an error: only the five predefined ones are expanded", () => {
    const feed = Feeds.feed(Feeds.occurrence("43/1/26", Feeds.child(), `\n    <Circumstances>&xxe;</Circumstances>`))
    const rejection = onlyRejection(run([feed].values()))
    expect(rejection).toMatchObject({ locator: "line 11, column 24", occurrence: "43/1/26" })
    expect(rejection.reason).toBe(
      "an entity reference other than the five XML predefines (&amp; &lt; &gt; &quot; &apos;): entities are never expanded; occurrence 1 (line 3) is cut short; nothing after this point is read"
    )
  })

  it("stops at maxDepth in a document nested 100,000 levels deep, having read little of it", () => {
    const result = run(endless(`<AthenaExport schemaVersion="1">`, "<Occurrence>", 100_000 * "<Occurrence>".length))
    expect(onlyRejection(result).reason).toBe(
      "elements nest deeper than maxDepth (32); occurrence 1 (line 1) is cut short; nothing after this point is read"
    )
    expect(result.pulled).toBeLessThan(200_000)
    quick(result)
  })

  it.each([
    ["a text node", `<AthenaExport schemaVersion="1"><Occurrence ref="43/1/26"><Circumstances>`, "Alfie Testman ", "line 1, column 74"],
    ["an attribute value", `<AthenaExport schemaVersion="1"><Occurrence ref="`, "43/1/26 ", "line 1, column 33"],
    ["a start tag of endless attributes", `<AthenaExport schemaVersion="1"><Occurrence`, ` a="1" `, "line 1, column 33"],
    ["a comment before the root", `<?xml version="1.0"?><!--`, "Alfie Testman ", "line 1, column 22"],
    ["a DOCTYPE's internal subset", `<?xml version="1.0"?><!DOCTYPE AthenaExport [`, `<!ENTITY a "b">`, "line 1, column 22"],
    ["CDATA", `<AthenaExport schemaVersion="1"><Occurrence ref="43/1/26"><Circumstances><![CDATA[`, "Alfie Testman ", "line 1, column 74"]
  ])("stops %s of 256 MiB at maxTextLength, having read little of it", (_name, head, filler, locator) => {
    const result = run(endless(head, filler, 256 * 1024 * 1024))
    const rejection = onlyRejection(result)
    expect(rejection.locator).toBe(locator)
    expect(rejection.reason).toMatch(/^a single text, tag, comment or declaration runs on for more than maxTextLength \(65536 characters\)/)
    expect(rejection.everything).not.toContain("Alfie")
    expect(result.pulled).toBeLessThan(256 * 1024)
    quick(result)
  })

  it("ignores a processing instruction pointing at a file, and decodes the feed", () => {
    const text = Feeds.text(Feeds.fixture("good.xml")).replace("<AthenaExport", `<?xml-stylesheet type="text/xsl" href="file:///etc/passwd"?>\n<AthenaExport`)
    const { items } = run([Feeds.utf8(text)].values())
    expect(items.map((item) => item._tag)).toEqual(["Incident", "Incident", "Incident", "Incident"])
    for (const line of passwdLines) expect(JSON.stringify(items)).not.toContain(line)
  })
})
