import { defineProject, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

// globalSetup: a real redis-server for the suite (LLM_FIBER_REDIS_URL, else one started here)
export default mergeConfig(
  shared,
  defineProject({ test: { name: "redis", globalSetup: ["./test/globalSetup.ts"] } })
)
