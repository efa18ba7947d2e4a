/** The README's configuration table, as the config Schema's annotations give it. */
import { JSONSchema } from "effect"
import { SftpChannelConfig } from "../src/index.js"

interface Property {
  readonly description?: string
}

/** The defaults, from a config with only the required keys. */
const defaults: Record<string, unknown> = {
  ...new SftpChannelConfig.SftpChannelConfig({
    host: "h",
    username: "u",
    privateKey: "/k",
    hostKey: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
    directory: "d"
  })
}

export const configTable = (): string => {
  const schema = JSONSchema.make(SftpChannelConfig.SftpChannelConfig) as {
    readonly properties: Record<string, Property>
    readonly required: ReadonlyArray<string>
  }
  const rows = Object.entries(schema.properties).map(([key, property]) => {
    const value = schema.required.includes(key) ? "required" : defaults[key] === undefined ? "none" : `\`${JSON.stringify(defaults[key])}\``
    return `| \`${key}\` | ${value} | ${property.description ?? ""} |`
  })
  return ["| Key | Default | Description |", "| --- | --- | --- |", ...rows].join("\n")
}
