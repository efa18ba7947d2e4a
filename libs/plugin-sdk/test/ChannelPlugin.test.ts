import { describe, expect, it } from "@effect/vitest"
import { ChannelPlugin } from "../src/index.js"

describe("DeliveryError", () => {
  it.each([
    ["Transport", true],
    ["Timeout", true],
    ["Auth", false],
    ["Rejected", false],
    ["InvalidConfig", false],
    ["Encryption", false]
  ] as const)("a %s failure is retryable: %s (the core retries only those)", (reason, retryable) => {
    expect(new ChannelPlugin.DeliveryError({ channel: "secure-email", reason, detail: "x" }).retryable).toBe(retryable)
  })

  it("says which channel failed and why, in the words the channel chose", () => {
    const error = new ChannelPlugin.DeliveryError({ channel: "secure-email", reason: "Rejected", detail: "550 mailbox unavailable" })
    expect(error.message).toBe("secure-email delivery failed (Rejected): 550 mailbox unavailable")
  })
})
