/**
 * A fresh database on the `DATABASE_URL` server for tests that run the gateway as a child
 * process (in-process tests use `Sql.layerTest`). Without `DATABASE_URL`, `url` is undefined and
 * the process under test uses its embedded store.
 */
import postgres from "postgres"

export interface TestDatabase {
  readonly url: string | undefined
  readonly drop: () => Promise<void>
}

export const fresh = async (): Promise<TestDatabase> => {
  const server = process.env["DATABASE_URL"]
  if (server === undefined || server === "") return { url: undefined, drop: () => Promise.resolve() }
  const name = `encompass_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  const admin = postgres(server, { max: 1, onnotice: () => undefined })
  await admin.unsafe(`CREATE DATABASE ${name}`)
  const url = new URL(server)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: async () => {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.end()
    }
  }
}
