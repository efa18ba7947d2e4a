/**
 * An element as the reader keeps it: its name, attributes in document order, and its content with
 * entities and CDATA already resolved to text. Comments and processing instructions are not kept.
 * `serialise` writes one element back out as a standalone document, which is how a rejected
 * record travels to quarantine and comes back for replay.
 */
export interface XmlElement {
  readonly name: string
  readonly attributes: ReadonlyArray<readonly [name: string, value: string]>
  readonly children: Array<XmlElement | string>
  /** The line its start tag is on. */
  readonly line: number
}

export const isElement = (node: XmlElement | string): node is XmlElement => typeof node !== "string"

// `>` is escaped too, so `]]>` in a value cannot end up in the output. A CR the value holds
// (from `&#13;`) is written as a reference, or a reader would fold it into a line break; in an
// attribute, tabs and line breaks likewise, or attribute-value normalisation would make them spaces.
const textEscapes: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;" }
const attributeEscapes: Record<string, string> = { ...textEscapes, "\"": "&quot;", "\t": "&#9;", "\n": "&#10;" }

const escapeText = (text: string): string => text.replace(/[&<>\r]/g, (c) => textEscapes[c] ?? c)
const escapeAttribute = (value: string): string => value.replace(/[&<>\r"\t\n]/g, (c) => attributeEscapes[c] ?? c)

const startTag = (name: string, attributes: XmlElement["attributes"]): string =>
  `<${name}${attributes.map(([attribute, value]) => ` ${attribute}="${escapeAttribute(value)}"`).join("")}`

const write = (element: XmlElement, out: Array<string>): void => {
  out.push(startTag(element.name, element.attributes))
  if (element.children.length === 0) return void out.push("/>")
  out.push(">")
  for (const child of element.children) {
    if (isElement(child)) write(child, out)
    else out.push(escapeText(child))
  }
  out.push(`</${element.name}>`)
}

/** The root's start tag (with its attributes) around one of its elements, as a UTF-8 document. */
export const serialise = (root: Pick<XmlElement, "name" | "attributes">, element: XmlElement): string => {
  const out = [`<?xml version="1.0" encoding="UTF-8"?>\n`, startTag(root.name, root.attributes), ">\n  "]
  write(element, out)
  out.push(`\n</${root.name}>\n`)
  return out.join("")
}
