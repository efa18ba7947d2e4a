/**
 * An element as plain data for a Schema to decode: attributes under `@name`, child elements under
 * their name (always a list, so a repeated element is noticed), and an element with neither as
 * its text. Values are trimmed. A failing path is then the XML's own names (`Person.0.@role`).
 */
import type { XmlElement } from "./XmlElement.js"
import { isElement } from "./XmlElement.js"

export type Value = string | { readonly [key: string]: string | ReadonlyArray<Value> }

/** A problem found while converting, at a dotted path like those of `DecodeIssue`. */
export interface FieldIssue {
  readonly path: string
  readonly message: string
}

const join = (path: string, key: string | number): string => (path === "" ? String(key) : `${path}.${key}`)

// What the reader's UTF-8 decoder puts in place of bytes that are not UTF-8.
const replacement = "\uFFFD"

export const toValue = (element: XmlElement, path: string, issues: Array<FieldIssue>): Value => {
  const text = element.children.filter((child): child is string => !isElement(child)).join("").trim()
  const elements = element.children.filter(isElement)
  if (text.includes(replacement)) issues.push({ path, message: "is not valid UTF-8" })
  for (const [name, value] of element.attributes) {
    if (value.includes(replacement)) issues.push({ path: join(path, `@${name}`), message: "is not valid UTF-8" })
  }
  if (element.attributes.length === 0 && elements.length === 0) return text
  if (text !== "") issues.push({ path, message: "holds text beside its attributes or elements, where only they belong" })
  // Built from entries, so an element named `__proto__` is just an unexpected field.
  const byName = new Map<string, Array<Value>>()
  for (const child of elements) {
    const list = byName.get(child.name) ?? []
    list.push(toValue(child, join(join(path, child.name), list.length), issues))
    byName.set(child.name, list)
  }
  return Object.fromEntries<string | ReadonlyArray<Value>>([
    ...element.attributes.map(([name, value]) => [`@${name}`, value.trim()] as const),
    ...byName
  ])
}
