/** The README's configuration table, as the config Schema's annotations give it. */
import { JSONSchema } from "effect"
import { CouncilFhirConfig } from "../src/index.js"

interface Property {
  readonly description?: string
}

/** The defaults, from a config with only the required keys. */
const defaults: Record<string, unknown> = {
  ...new CouncilFhirConfig.CouncilFhirConfig({ sender: { id: "s", name: "S" }, servers: {} })
}

export const configTable = (): string => {
  const schema = JSONSchema.make(CouncilFhirConfig.CouncilFhirConfig) as {
    readonly properties: Record<string, Property>
    readonly required: ReadonlyArray<string>
  }
  const rows = Object.entries(schema.properties).map(([key, property]) => {
    const value = schema.required.includes(key) ? "required" : defaults[key] === undefined ? "none" : `\`${JSON.stringify(defaults[key])}\``
    return `| \`${key}\` | ${value} | ${property.description ?? ""} |`
  })
  return ["| Key | Default | Description |", "| --- | --- | --- |", ...rows].join("\n")
}
