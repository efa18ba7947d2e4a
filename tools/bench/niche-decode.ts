/**
 * Benchmark of the Niche RMS source's decode over a large synthetic feed:
 *
 *   npx tsx tools/bench/niche-decode.ts [--size-mb 1024]
 *
 * The CSV is generated on the fly, 64 KiB at a time, so neither memory nor disk ever holds it;
 * the decoder's own footprint is what the peak RSS shows (target: under 300 MB for 1 GB).
 * Rows are seeded-random but realistic: one to three children per occurrence, quoted addresses,
 * a dual registration or EHE now and then, and about one row in a hundred malformed.
 */
import { Ids } from "@encompass/domain"
import { NicheRmsSource } from "@encompass/source-niche-rms"
import { Effect, Option, Stream } from "effect"

const sizeFlag = process.argv.indexOf("--size-mb")
const sizeMb = sizeFlag === -1 ? 1024 : Number(process.argv[sizeFlag + 1])
if (!Number.isFinite(sizeMb) || sizeMb <= 0) {
  console.error("usage: npx tsx tools/bench/niche-decode.ts [--size-mb 1024]")
  process.exit(2)
}
const totalBytes = Math.round(sizeMb * 1024 * 1024)

/** mulberry32: a small seeded generator, so every run decodes the same feed. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const givenNames: readonly [string, ...Array<string>] = ["Alfie", "Bella", "Cara", "Dan", "Evie", "Finn", "Gwen", "Hal", "Isla", "Jack", "Kit", "Lola"]
const familyNames: readonly [string, ...Array<string>] = ["Testman", "Sample", "Example", "Fakeley", "Mockford", "Dummett", "Placeholder"]
const streets: readonly [string, ...Array<string>] = ["Elm Road", "Mill Lane", "High Street", "Oak Close", "Brook Street", "Castle Street"]
const towns: readonly [readonly [string, string], ...Array<readonly [string, string]>] = [
  ["Reading", "RG1"],
  ["Slough", "SL1"],
  ["Oxford", "OX1"],
  ["High Wycombe", "HP11"],
  ["Milton Keynes", "MK9"]
]
const header = NicheRmsSource.columns.join(",")

class FeedGenerator {
  rows = 0
  private occurrence = 0
  private readonly next = random(20261116)
  private pick<A>(values: readonly [A, ...Array<A>]): A {
    return values[Math.floor(this.next() * values.length)] ?? values[0]
  }
  private digits(n: number, width: number): string {
    return String(n).padStart(width, "0")
  }

  /** One occurrence's rows. */
  incident(): string {
    this.occurrence++
    const [town, district] = this.pick(towns)
    const address = `"${1 + Math.floor(this.next() * 120)} ${this.pick(streets)}, ${town}"`
    const postcode = `${district} ${1 + Math.floor(this.next() * 9)}${this.pick(["AB", "CD", "EF", "GH"])}`
    const when = `2026-11-${16 + Math.floor(this.next() * 7)}T${this.digits(Math.floor(this.next() * 24), 2)}:${this.digits(Math.floor(this.next() * 60), 2)}`
    const head = `43/${this.digits(this.occurrence, 7)}/26,${when},domestic,${address},${postcode},1`
    const family = this.pick(familyNames)
    const children = 1 + Math.floor(this.next() * this.next() * 3)
    let text = ""
    for (let c = 0; c < children; c++) {
      this.rows++
      const roll = this.next()
      const school = roll < 0.05 ? "EHE" : roll < 0.1 ? "100001;100006" : `10000${1 + Math.floor(this.next() * 7)}`
      // About one row in a hundred has an impossible date of birth.
      const dob = roll > 0.99 ? "2015-02-30" : `20${this.digits(8 + Math.floor(this.next() * 14), 2)}-0${1 + Math.floor(this.next() * 9)}-1${Math.floor(this.next() * 9)}`
      const presence = this.pick(["present", "witness", "not-present"])
      text += `${head},P-${this.occurrence}-${c},${this.pick(givenNames)},${family},${dob},${address},${postcode},${presence},${school},${this.pick(["standard", "medium", "high"])},${roll < 0.02 ? "Y" : "N"}\n`
    }
    return text
  }
}

const encoder = new TextEncoder()
const chunkBytes = 64 * 1024

const feed = (generator: FeedGenerator): Stream.Stream<Uint8Array> =>
  Stream.unfold(0, (sent) => {
    if (sent >= totalBytes) return Option.none()
    let text = sent === 0 ? `${header}\n` : ""
    while (text.length < chunkBytes) text += generator.incident()
    const bytes = encoder.encode(text)
    return Option.some([bytes, sent + bytes.length] as const)
  })

// Before decoding: the runtime, tsx and the loaded modules (with their source maps).
const baselineRss = process.memoryUsage().rss
let peakRss = baselineRss
const sample = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss)
}
const sampler = setInterval(sample, 50)

const generator = new FeedGenerator()
const plugin = NicheRmsSource.make()
let bytesIn = 0
const content = feed(generator).pipe(Stream.tap((bytes) => Effect.sync(() => (bytesIn += bytes.length))))

const started = performance.now()
const totals = await Effect.runPromise(
  plugin.decode({ source: Ids.SourceId.make("niche-rms"), name: "bench.csv", content }).pipe(
    Stream.runFold({ incidents: 0, children: 0, rejections: 0 }, (acc, decoded) => {
      if (decoded._tag === "Incident") {
        acc.incidents++
        acc.children += decoded.children.length
      } else acc.rejections++
      if ((acc.incidents & 0xfff) === 0) sample()
      return acc
    })
  )
)
const seconds = (performance.now() - started) / 1000
sample()
clearInterval(sampler)

const mb = bytesIn / (1024 * 1024)
console.log(`feed          ${mb.toFixed(1)} MB, ${generator.rows.toLocaleString("en-GB")} rows`)
console.log(`time          ${seconds.toFixed(1)} s`)
console.log(`throughput    ${Math.round(generator.rows / seconds).toLocaleString("en-GB")} rows/s, ${(mb / seconds).toFixed(1)} MB/s`)
console.log(`incidents     ${totals.incidents.toLocaleString("en-GB")} (${totals.children.toLocaleString("en-GB")} children)`)
console.log(`rejections    ${totals.rejections.toLocaleString("en-GB")}`)
console.log(`peak RSS      ${(peakRss / (1024 * 1024)).toFixed(0)} MB (${(baselineRss / (1024 * 1024)).toFixed(0)} MB before decoding)`)
