/** The plugin-testkit source suite again, under the example field mapping of a second force. */
import { SourceConformance } from "@encompass/plugin-testkit"
import { Either } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { NicheMapping, NicheRmsSource } from "../src/index.js"

const mapping = Either.getOrThrow(
  NicheMapping.fromYaml(fs.readFileSync(path.join(import.meta.dirname, "..", "mappings", "example-second-force.yaml"), "utf8"))
)
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)
const sample = new Uint8Array(fs.readFileSync(path.join(import.meta.dirname, "fixtures", "good-second-force.csv")))
const [header = "", first = "", second = ""] = new TextDecoder().decode(sample).split("\n")
const feed = (...rows: ReadonlyArray<string>): Uint8Array => utf8([header, ...rows].join("\n") + "\n")

/** Rows of two children per occurrence in the second force's layout, each occurrence new, about 64 KiB a chunk. */
function* large(bytes: number): Generator<Uint8Array> {
  yield utf8(`${header}\n`)
  let produced = 0
  for (let n = 0; produced < bytes; n++) {
    const rows: Array<string> = []
    for (let i = 0; i < 200; i++) {
      const occurrence = `43/${String(n * 200 + i).padStart(7, "0")}/26`
      for (const child of [1, 2]) {
        rows.push(
          `P-${child};Testman;Alfie;0${child}/04/2015;P;100001|100006;S;No;14 Elm Road, Reading;RG1 4AA;${occurrence};1;16/11/2026 19:45;DA;"14 Elm Road; Reading";RG1 4AA;PC 4411`
        )
      }
    }
    const chunk = utf8(`${rows.join("\n")}\n`)
    produced += chunk.length
    yield chunk
  }
}

SourceConformance.suite({
  plugin: NicheRmsSource.make(mapping),
  variant: "example mapping of a second force",
  sample,
  sensitive: ["Alfie", "Bella", "Testman", "02/04/2015", "14 Elm Road", "Mill Lane", "Dan", "15/06/2010"],
  malformed: [
    { name: "an impossible date of birth", content: feed(first, second.replace("12/09/2017", "31/09/2017")) },
    { name: "an ISO date where the mapping says dd/MM/yyyy", content: feed(first.replace("02/04/2015", "2015-04-02"), second) },
    { name: "a presence code the mapping does not have", content: feed(first, second.replace(";W;", ";present;")) },
    { name: "a mapped time that is not a real time", content: feed(first.replace("19:45", "25:45")) },
    { name: "a row with a cell too few", content: feed(first.replace(";PC 4411", "")) },
    { name: "a header missing the mapped DOB column", content: utf8(`${header.replace("DOB;", "")}\n${first}\n`) },
    { name: "the default layout's comma-separated feed", content: utf8("occurrence_number,incident_datetime\n43/1/26,2026-11-16T19:45\n") },
    { name: "a feed with no header row", content: utf8(`${first}\n`) },
    { name: "a quote that is never closed", content: feed(first.replace("Alfie", "\"Alfie")) },
    { name: "a 100 KiB record", content: feed("Alfie Testman ".repeat(8000)) },
    { name: "binary noise", content: new Uint8Array(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)) }
  ],
  formula: feed(first.replace(";Alfie;", ";\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\";")),
  headerOnly: utf8(`${header}\n`),
  large,
  replayable: true
})
