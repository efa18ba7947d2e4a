import { SourceConformance } from "@encompass/plugin-testkit"
import { JsonSource } from "../src/index.js"
import * as Lines from "./Lines.js"

/** Incidents of two children each, every one a new occurrence, 500 lines a chunk. */
function* large(bytes: number): Generator<Uint8Array> {
  const template = Lines.incident()
  let produced = 0
  for (let n = 0; produced < bytes; n++) {
    const lines: Array<string> = []
    for (let i = 0; i < 500; i++) lines.push(JSON.stringify({ ...template, occurrence: `43/${n * 500 + i}/26` }))
    const chunk = Lines.utf8(`${lines.join("\n")}\n`)
    produced += chunk.length
    yield chunk
  }
}

const withChild = (change: (child: Record<string, unknown>) => void) => {
  const line = Lines.incident()
  change(Lines.firstChild(line))
  return line
}

SourceConformance.suite({
  plugin: JsonSource.make(),
  sample: Lines.good,
  sensitive: Lines.personalData,
  malformed: [
    { name: "a line that is not JSON", content: Lines.feed(`{"occurrence":"43/1/26","children":[{"person":{"givenName":"Alfie"`) },
    { name: "a line that is a JSON array", content: Lines.feed(`["Alfie","Testman"]`) },
    { name: "a date of birth that is not a date", content: Lines.feed(withChild((c) => (c["person"] = { givenName: "Alfie", familyName: "Testman", dateOfBirth: "2015-02-30" }))) },
    { name: "an unknown field", content: Lines.feed({ ...Lines.incident(), nickname: "Alfie" }) },
    { name: "a missing schemaVersion", content: Lines.feed({ ...Lines.incident(), schemaVersion: undefined }) },
    { name: "a URN that is not six digits", content: Lines.feed(withChild((c) => (c["education"] = [{ _tag: "Setting", urn: "2015-04-02" }]))) },
    { name: "bytes that are not UTF-8", content: new Uint8Array([...Lines.utf8(`{"occurrence":"Alfie `), 0xff, 0xfe, ...Lines.utf8(`"}\n`)]) },
    { name: "a line over the size limit", content: Lines.feed(`{"note":"${"Alfie Testman ".repeat(100_000)}"}`) },
    { name: "binary noise", content: new Uint8Array(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)) }
  ],
  formula: Lines.feed(withChild((c) => (c["person"] = { givenName: "=HYPERLINK(\"http://x\",\"y\")", familyName: "Testman", dateOfBirth: "2015-04-02" }))),
  headerOnly: new Uint8Array(0),
  large,
  replayable: true
})
