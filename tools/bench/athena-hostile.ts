/**
 * Benchmark of the Athena XML source on hostile and large input:
 *
 *   npx tsx tools/bench/athena-hostile.ts [--size-mb 100]
 *
 * Prints, for a billion-laughs bomb, an external-entity (XXE) file, a 100 000-deep nesting and a
 * 256 MiB text node (each streamed in 64 KiB chunks), how long decoding took, how many bytes it
 * read before it stopped, and the process's peak RSS; then the throughput and peak RSS of a
 * well-formed export of `--size-mb` generated on the fly. Hostile input must stop within a few
 * milliseconds of reading its first kilobytes, in bounded memory.
 */
import { Ids } from "@encompass/domain"
import { AthenaSource } from "@encompass/source-athena"
import { Effect, Stream } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"

const sizeFlag = process.argv.indexOf("--size-mb")
const sizeMb = sizeFlag === -1 ? 100 : Number(process.argv[sizeFlag + 1])
const source = Ids.SourceId.make("athena")
const plugin = AthenaSource.make()
const utf8 = (text: string) => new TextEncoder().encode(text)
const fixtures = path.resolve(import.meta.dirname, "../../plugins/source-athena/test/fixtures")
const CHUNK = 64 * 1024

/** Chunks of a generated document, pulled lazily; counts what the decoder actually read. */
const counted = (chunks: () => IterableIterator<Uint8Array>) => {
  const state = { read: 0 }
  // One piece per stream chunk, as a transport delivers them (`fromIterable` would batch 4096).
  const content = Stream.fromIteratorSucceed(chunks(), 1).pipe(
    Stream.tap((chunk) => Effect.sync(() => (state.read += chunk.byteLength)))
  )
  return { state, content }
}

function* repeat(head: string, body: string, bytes: number, tail: string): Generator<Uint8Array> {
  yield utf8(head)
  const piece = utf8(body.repeat(Math.max(1, Math.floor(CHUNK / body.length))))
  for (let sent = 0; sent < bytes; sent += piece.byteLength) yield piece
  yield utf8(tail)
}

function* file(name: string): Generator<Uint8Array> {
  const bytes = fs.readFileSync(path.join(fixtures, name))
  for (let i = 0; i < bytes.byteLength; i += CHUNK) yield bytes.subarray(i, i + CHUNK)
}

const occurrence = (n: number) => `  <Occurrence ref="43/${String(100000 + (n % 900000))}/26" version="1">
    <Category>DOMESTIC_INCIDENT</Category>
    <OccurredAt>2026-11-20T21:15:00Z</OccurredAt>
    <Location><Line>${n} Oak Close</Line><Line>Reading</Line><Postcode>RG2 7AA</Postcode></Location>
    <Person ref="P-${n}" role="CHILD">
      <GivenName>Finn</GivenName><FamilyName>Fakeley</FamilyName><DateOfBirth>2014-05-05</DateOfBirth>
      <HomeAddress><Line>${n} Oak Close</Line><Line>Reading</Line><Postcode>RG2 7AA</Postcode></HomeAddress>
      <Presence>PRESENT</Presence><School urn="100001"/><RiskGrading>STANDARD</RiskGrading><Sensitive>false</Sensitive>
    </Person>
  </Occurrence>
`

function* large(bytes: number): Generator<Uint8Array> {
  yield utf8(`<?xml version="1.0" encoding="UTF-8"?>\n<AthenaExport schemaVersion="1">\n`)
  let sent = 0
  let n = 0
  while (sent < bytes) {
    let text = ""
    while (text.length < CHUNK) text += occurrence(n++)
    const chunk = utf8(text)
    sent += chunk.byteLength
    yield chunk
  }
  yield utf8("</AthenaExport>\n")
}

let peak = 0
const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5)
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`

const run = async (name: string, chunks: () => IterableIterator<Uint8Array>) => {
  peak = process.memoryUsage().rss
  const { content, state } = counted(chunks)
  const started = performance.now()
  const out = await Effect.runPromise(
    Stream.runFold(plugin.decode({ source, name, content }), { incidents: 0, rejections: 0, first: "" }, (acc, item) =>
      item._tag === "Incident"
        ? { ...acc, incidents: acc.incidents + 1 }
        : { ...acc, rejections: acc.rejections + 1, first: acc.first === "" ? item.message : acc.first })
  )
  const ms = performance.now() - started
  peak = Math.max(peak, process.memoryUsage().rss)
  return { ms, read: state.read, peak, ...out }
}

const hostile: ReadonlyArray<readonly [string, () => IterableIterator<Uint8Array>]> = [
  ["billion laughs", () => file("billion-laughs.xml")],
  ["external entity (XXE)", () => file("xxe.xml")],
  ["100 000-deep nesting", () => repeat(`<AthenaExport schemaVersion="1">`, "<a>", 300_000, "")],
  ["256 MiB text node", () => repeat(`<AthenaExport schemaVersion="1"><Occurrence ref="1" version="1"><Category>`, "x", 256 * 1024 * 1024, "")]
]

for (const [name, chunks] of hostile) {
  const r = await run(name, chunks)
  console.log(`${name.padEnd(24)} ${r.ms.toFixed(1).padStart(8)} ms  read ${String(r.read).padStart(9)} B  peak RSS ${mb(r.peak)}  → ${r.first}`)
}
const r = await run("large", () => large(sizeMb * 1024 * 1024))
console.log(
  `well-formed ${sizeMb} MB export: ${r.incidents} incidents, ${r.rejections} rejections in ${(r.ms / 1000).toFixed(1)} s ` +
    `(${((sizeMb * 1000) / r.ms).toFixed(2)} MB/s), peak RSS ${mb(r.peak)}`
)
clearInterval(sample)
