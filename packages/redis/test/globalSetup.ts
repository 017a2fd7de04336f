/**
 * The Redis server of the redis test suite: `LLM_FIBER_REDIS_URL` when it is set (npm test
 * starts one and sets it), else a throwaway `redis-server` on a free loopback port, stopped
 * after the run. No redis-server and no URL fails the suite, saying what to install.
 */
import type { TestProject } from "vitest/node"
import { type RedisServer, startRedisServer, urlVariable } from "../../../test-support/redis.js"

declare module "vitest" {
  export interface ProvidedContext {
    readonly redisUrl: string
  }
}

let server: RedisServer | undefined

export const setup = async (project: TestProject): Promise<void> => {
  const url = process.env[urlVariable]
  if (url !== undefined && url !== "") {
    project.provide("redisUrl", url)
    return
  }
  server = await startRedisServer()
  project.provide("redisUrl", server.url)
}

export const teardown = async (): Promise<void> => {
  await server?.stop()
  server = undefined
}
