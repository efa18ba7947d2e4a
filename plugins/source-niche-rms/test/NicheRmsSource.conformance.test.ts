import { SourceConformance } from "@encompass/plugin-testkit"
import * as fs from "node:fs"
import * as path from "node:path"
import { NicheRmsSource } from "../src/index.js"

const fixture = (name: string): Uint8Array => new Uint8Array(fs.readFileSync(path.join(import.meta.dirname, "fixtures", name)))
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)
const header = NicheRmsSource.columns.join(",")
const sample = fixture("good.csv")
const firstRow = new TextDecoder().decode(sample).split("\n")[1] ?? ""

/** Rows of two children per occurrence, each occurrence new, about 64 KiB a chunk. */
function* large(bytes: number): Generator<Uint8Array> {
  yield utf8(`${header}\n`)
  let produced = 0
  for (let n = 0; produced < bytes; n++) {
    const rows: Array<string> = []
    for (let i = 0; i < 200; i++) {
      const occurrence = `43/${String(n * 200 + i).padStart(7, "0")}/26`
      for (const child of [1, 2]) {
        rows.push(
          `${occurrence},2026-11-16T19:45,domestic,"14 Elm Road, Reading",RG1 4AA,1,P-${child},Alfie,Testman,2015-04-0${child},"14 Elm Road, Reading",RG1 4AA,present,100001,standard,N`
        )
      }
    }
    const chunk = utf8(`${rows.join("\n")}\n`)
    produced += chunk.length
    yield chunk
  }
}

SourceConformance.suite({
  plugin: NicheRmsSource.make(),
  sample,
  sensitive: ["Alfie", "Bella", "Testman", "2015-04-02", "14 Elm Road", "Mill Lane", "Dan", "2010-06-15"],
  malformed: [
    { name: "the malformed fixture (bad dates, URNs, quoting, repeats)", content: fixture("malformed.csv") },
    { name: "a header missing required columns", content: fixture("missing-column.csv") },
    { name: "a feed with no header row", content: utf8(`${firstRow}\n`) },
    { name: "a row that is not valid UTF-8", content: new Uint8Array([...utf8(`${header}\n43/1/26,`), 0xff, 0xfe, ...utf8(",x\n")]) },
    { name: "a quote that is never closed", content: utf8(`${header}\n${firstRow.replace("\"14 Elm", "\"14 \"Elm")}\n"Alfie,Testman\n`) },
    { name: "a 100 KiB record", content: utf8(`${header}\n${"Alfie Testman ".repeat(8000)}\n`) },
    { name: "binary noise", content: new Uint8Array(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)) }
  ],
  formula: utf8(`${header}\n${firstRow.replace(",Alfie,", ",\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",")}\n`),
  headerOnly: utf8(`${header}\n`),
  large,
  replayable: true
})
