/** Writes the published JSON Schema of a feed line from the Effect Schema: `npm run schema`. */
import * as fs from "node:fs"
import * as path from "node:path"
import { IncidentLine } from "../src/index.js"

const target = path.join(import.meta.dirname, "..", "schema", "incident-line.schema.json")
fs.writeFileSync(target, `${JSON.stringify(IncidentLine.jsonSchema(), null, 2)}\n`)
console.log(`wrote ${path.relative(process.cwd(), target)}`)
