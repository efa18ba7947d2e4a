/**
 * `encompass outbox` as an operator uses it on a region whose relay is down: the ingested feed's
 * notifications wait for their next attempt, and the operator lists, inspects, cancels,
 * re-queues and withdraws them. Runs against DATABASE_URL when set, else the embedded store.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type DownRelayRegion, downRelayRegion } from "./Run.js"

let region: DownRelayRegion
let ingested: DownRelayRegion["ingested"]
const run = (args: ReadonlyArray<string>) => region.run(args)
const outbox = (...args: ReadonlyArray<string>) => run(["outbox", ...args, "--config", region.region])

beforeAll(async () => {
  region = await downRelayRegion("outbox")
  ingested = region.ingested
}, 240_000)

afterAll(() => region.cleanUp())

const referencesIn = (text: string) => [...text.matchAll(/^(EG-[0-9A-F-]+)\s+(\w+)/gm)].map((m) => ({ reference: m[1] ?? "", state: m[2] ?? "" }))

describe("encompass outbox", () => {
  it("logs each failed attempt with its reason, and no personal data", () => {
    const failed = ingested.stdout.split("\n").filter((l) => l.includes('message="delivery attempt failed"'))
    expect(failed.length).toBeGreaterThan(1)
    for (const line of failed) {
      expect(line).toMatch(/level=WARN/)
      expect(line).toMatch(/reason=Transport/)
      expect(line).toMatch(/error="ESOCKET: connect ECONNREFUSED 127\.0\.0\.1:\d+"/)
      expect(line).toMatch(/reference=EG-[0-9A-F-]+ /)
      expect(line).toMatch(/recipient=setting:\d+/)
      // Not a name, address or email address from the feed or the directory.
      expect(line).not.toMatch(/@|Hartwell|Larkspur|RG1/)
    }
  })

  // Five runs of the command, each a fresh node process: seconds apiece, more on a busy machine.
  it("lists, shows, cancels and re-queues the notifications a down relay left waiting", async () => {
    expect(ingested.code).toBe(0)
    expect(ingested.stdout).toMatch(/Delivered\s+0\s+to retry [1-9]/)

    const listed = await outbox("list", "--state", "queued")
    expect(listed.code).toBe(0)
    const queued = referencesIn(listed.stdout)
    expect(queued.length).toBeGreaterThan(1)
    expect(queued.every((q) => q.state === "queued")).toBe(true)
    expect(listed.stdout).toMatch(/queued\s+notification\s+1\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+setting:\d+\s+secure-email delivery failed/)
    // Never the content: no child's name from the feed.
    expect(listed.stdout).not.toMatch(/Given|Family|child_given_name/i)
    const [first, second, third] = queued.map((q) => q.reference)

    const shown = await outbox("show", first ?? "")
    expect(shown.code).toBe(0)
    expect(shown.stdout).toContain(`notification  ${first} (queued)`)
    expect(shown.stdout).toMatch(/^\s+1\s+\S+\s+retry\s+secure-email delivery failed \(Transport\)/m)

    const cancelled = await outbox("cancel", first ?? "", "--reason", "told by phone", "--operator", "ops.tester")
    expect(cancelled.stderr).toBe("")
    expect(cancelled.code).toBe(0)
    expect(cancelled.stdout).toContain(`Notification ${first} is cancelled and will not be sent: cancelled by ops.tester: told by phone`)

    // Cancelled is final: it cannot be re-queued (an operator error, exit 1).
    const refused = await outbox("retry", first ?? "")
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`encompass: notification ${first}: the notification is cancelled`)

    const retried = await outbox("retry", second ?? "", "--operator", "ops.tester")
    expect(retried.stderr).toBe("")
    expect(retried.code).toBe(0)
    expect(retried.stdout).toContain(`Notification ${second} is queued and due now`)

    // Attempted once, so it may have arrived: withdrawing it queues a withdrawal to its school.
    const withdrawn = await outbox("withdraw", third ?? "", "--note", "wrong occurrence", "--operator", "ops.tester")
    expect(withdrawn.stderr).toBe("")
    expect(withdrawn.code).toBe(0)
    const notice = /^Withdrawal (EG-[0-9A-F-]+) of (EG-[0-9A-F-]+) is queued for setting:\d+/.exec(withdrawn.stdout)
    expect(notice?.[2]).toBe(third)
    const after = await outbox("show", notice?.[1] ?? "")
    expect(after.stdout).toContain(`withdrawal    of ${third}`)
  }, 240_000)
})
