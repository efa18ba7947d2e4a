/**
 * The secure-email channel's settings as the CLI's `ingest` and `demo` still give them, apart from
 * a region file. Goes when the CLI composes `Region.layer` (issue 11, item 3).
 */
import { SecureEmailConfig } from "@encompass/channel-secure-email"
import type { Effect } from "effect"
import * as PluginSettings from "./PluginSettings.js"
import type { RegionConfigError } from "./RegionConfig.js"

/** `relay` is the path of the relay settings file, or the settings themselves. */
export const load = (
  relay: string | Record<string, unknown>,
  passwordsFile: string
): Effect.Effect<SecureEmailConfig.SecureEmailConfig, RegionConfigError> =>
  PluginSettings.load(SecureEmailConfig.SecureEmailConfig, { settings: relay, passwords: passwordsFile, inline: { file: "email settings", path: [] } })
