import { SourceConformance } from "@encompass/plugin-testkit"
import { AthenaSource } from "../src/index.js"
import * as Feeds from "./Feeds.js"

/** Occurrences of two children each, every one new, about 64 KiB a chunk, inside one root element. */
function* large(bytes: number): Generator<Uint8Array> {
  yield Feeds.utf8(`${Feeds.declaration}<AthenaExport schemaVersion="1">\n`)
  let produced = 0
  for (let n = 0; produced < bytes; n++) {
    const occurrences: Array<string> = []
    for (let i = 0; i < 40; i++) {
      const persons = Feeds.child({ ref: "P-1" }) + Feeds.child({ ref: "P-2", dateOfBirth: "2016-01-01" })
      occurrences.push(Feeds.occurrence(`43/${String(n * 40 + i).padStart(7, "0")}/26`, persons))
    }
    const chunk = Feeds.utf8(occurrences.join(""))
    produced += chunk.length
    yield chunk
  }
  yield Feeds.utf8("</AthenaExport>\n")
}

const sample = Feeds.fixture("good.xml")
const sampleText = Feeds.text(sample)

SourceConformance.suite({
  plugin: AthenaSource.make(),
  sample,
  sensitive: Feeds.personalData,
  malformed: [
    { name: "the malformed fixture (bad dates, roles, URNs, codes, repeats, stray content)", content: Feeds.fixture("malformed.xml") },
    { name: "a DOCTYPE declaring an entity bomb", content: Feeds.fixture("billion-laughs.xml") },
    { name: "a DOCTYPE declaring an external entity", content: Feeds.fixture("xxe.xml") },
    { name: "a feed cut off inside an occurrence", content: Feeds.utf8(sampleText.slice(0, sampleText.indexOf("<Person ref=\"P-3002\""))) },
    { name: "a closing tag that does not match", content: Feeds.utf8(sampleText.replace("</GivenName>", "</FamilyName>")) },
    { name: "a root element that is not AthenaExport", content: Feeds.utf8(sampleText.replaceAll("AthenaExport", "Export")) },
    { name: "another schemaVersion", content: Feeds.utf8(sampleText.replace(`schemaVersion="1"`, `schemaVersion="2"`)) },
    { name: "a name that is not valid UTF-8", content: new Uint8Array([...Feeds.utf8(sampleText.slice(0, sampleText.indexOf("Alfie"))), 0xff, 0xfe, ...Feeds.utf8(sampleText.slice(sampleText.indexOf("Alfie") + 5))]) },
    { name: "elements nested 10,000 deep", content: Feeds.utf8(`<AthenaExport schemaVersion="1">${"<Occurrence>".repeat(10_000)}`) },
    { name: "a text longer than maxTextLength", content: Feeds.feed(Feeds.occurrence("43/1/26", Feeds.child(), `\n    <Circumstances>${"Alfie Testman ".repeat(5000)}</Circumstances>`)) },
    { name: "binary noise", content: new Uint8Array(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)) }
  ],
  formula: Feeds.utf8(sampleText.replace("<GivenName>Alfie</GivenName>", "<GivenName>=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)</GivenName>")),
  headerOnly: Feeds.empty,
  large,
  replayable: true
})
