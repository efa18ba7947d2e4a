/** The README's configuration table, as the config Schema's annotations give it. */
import { JSONSchema } from "effect"
import { AthenaSourceConfig } from "../src/index.js"

interface Property {
  readonly description?: string
  readonly enum?: ReadonlyArray<unknown>
  readonly allOf?: ReadonlyArray<{ readonly minimum?: number; readonly maximum?: number }>
}

export const configTable = (): string => {
  const schema = JSONSchema.make(AthenaSourceConfig.AthenaSourceConfig) as { readonly properties: Record<string, Property> }
  const defaults: Record<string, unknown> = { ...new AthenaSourceConfig.AthenaSourceConfig({}) }
  const rows = Object.entries(schema.properties).map(([key, property]) => {
    const bounds = property.allOf?.[0]
    const range = bounds === undefined ? (property.enum ?? []).join(", ") : `${bounds.minimum}–${bounds.maximum}`
    return `| \`${key}\` | \`${String(defaults[key])}\` | ${range} | ${property.description ?? ""} |`
  })
  return ["| Key | Default | Allowed | Description |", "| --- | --- | --- | --- |", ...rows].join("\n")
}
