/**
 * Recorded provider traffic (`fixtures/vercel-ai/`) replayed over HTTP through the real
 * provider and undici. Expected values were read from the fixture data with an
 * independent script (concatenated deltas, hashed) and hard-coded here.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { ChatRequest, type ChatResult, StreamEvent, Timeouts, UndiciHttpClient, type Usage } from "@llm-fiber/core"
import { OpenAI } from "@llm-fiber/openai"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import { json, sse, startServer, type TestServer } from "../../../test-support/server.js"
import { chunksToSse, listFixtures, readFixture } from "../../../test-support/shared.js"

const sha = (s: string) => createHash("sha256").update(s, "utf8").digest("hex")

interface TextExpectation {
  readonly length: number
  readonly sha256: string
  readonly head: string
}

interface Case {
  readonly file: string
  /** The provider name the fixture is replayed under. */
  readonly provider: string
  readonly id: string
  readonly model: string
  readonly text: TextExpectation
  readonly reasoning?: TextExpectation
  readonly toolCalls: ReadonlyArray<{ readonly id: string; readonly name: string; readonly rawArguments: string }>
  readonly finishReason: ChatResult.FinishReason
  readonly rawFinishReason: string
  readonly usage: Usage.Usage | undefined
}

const empty: TextExpectation = {
  length: 0,
  sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  head: ""
}

const weatherSF = "{\"location\": \"San Francisco\"}"
const weatherSFCompact = "{\"location\":\"San Francisco\"}"

const streamCases: ReadonlyArray<Case> = [
  {
    file: "openai/chat/openai-text.chunks.txt",
    provider: "openai",
    id: "chatcmpl-D8Z5oo6uDh67AD85p73ksdT1KxhE0",
    model: "gpt-4.1-nano-2025-04-14",
    text: {
      length: 1724,
      sha256: "53b2d9e583d02b3ff0a0e83be5beb61ce1d16ccddc7ab9f033e72ec8ef55c8e4",
      head: "**Holiday Name:** Harmony Day\n\n**Date:**"
    },
    toolCalls: [],
    finishReason: "stop",
    rawFinishReason: "stop",
    usage: { inputTokens: 16, outputTokens: 300, totalTokens: 316, cachedInputTokens: 0, reasoningTokens: 0 }
  },
  {
    file: "openai/chat/azure-model-router.1.chunks.txt",
    provider: "openai",
    id: "chatcmpl-CYPS1lijGoK8gd9lYzY3r9Sx50nbt",
    model: "gpt-5-nano-2025-08-07",
    text: {
      length: 19,
      sha256: "53f836c9fbdabf17eb44223ac5a576d45dae9abf3f6202b957726864c4506ae5",
      head: "Capital of Denmark."
    },
    toolCalls: [],
    finishReason: "stop",
    rawFinishReason: "stop",
    usage: { inputTokens: 15, outputTokens: 78, totalTokens: 93, cachedInputTokens: 0, reasoningTokens: 64 }
  },
  {
    file: "deepseek/chat/deepseek-reasoning.chunks.txt",
    provider: "deepseek",
    id: "cac7192e-e619-40c6-96b0-ed4276bc03ac",
    model: "deepseek-reasoner",
    text: {
      length: 42,
      sha256: "238e36f474e5d801cd3e9a09f8e491f7b5642197f5a32e0b17e804518e9d96d6",
      head: "The word \"strawberry\" contains three \"r\""
    },
    reasoning: {
      length: 606,
      sha256: "01a5d04ca7e849fd2fade232d01ab33b2f93c8b2cd8c4bfaa2acc0f6d86f83f5",
      head: "We need to count the number of the lette"
    },
    toolCalls: [],
    finishReason: "stop",
    rawFinishReason: "stop",
    usage: { inputTokens: 18, outputTokens: 219, totalTokens: 237, cachedInputTokens: 0, reasoningTokens: 205 }
  },
  {
    file: "deepseek/chat/deepseek-text.chunks.txt",
    provider: "deepseek",
    id: "f6117a0b-129d-46fa-b239-78f01c2c5df9",
    model: "deepseek-chat",
    text: {
      length: 1855,
      sha256: "2293daa9001bc91d0d84ea889a31d2bc7194afed494341ec23d189a1e6b550b5",
      head: "## **Holiday Name:** Starlight Remembran"
    },
    toolCalls: [],
    finishReason: "length",
    rawFinishReason: "length",
    usage: { inputTokens: 13, outputTokens: 400, totalTokens: 413, cachedInputTokens: 0 }
  },
  {
    file: "deepseek/chat/deepseek-tool-call.chunks.txt",
    provider: "deepseek",
    id: "cca85624-4056-401f-b220-d77601d1f70d",
    model: "deepseek-reasoner",
    text: empty,
    reasoning: {
      length: 191,
      sha256: "e9e5190a993cf8919dac982cbe90e7202e9638702f6e4fbea9f1ff8614309fb8",
      head: "The user is asking for the weather in Sa"
    },
    toolCalls: [{ id: "call_00_ioIn7yN9p1ZOMNpDLwd4MgAF", name: "weather", rawArguments: weatherSF }],
    finishReason: "tool_calls",
    rawFinishReason: "tool_calls",
    usage: { inputTokens: 339, outputTokens: 83, totalTokens: 422, cachedInputTokens: 320, reasoningTokens: 39 }
  },
  {
    file: "groq/groq-reasoning.chunks.txt",
    provider: "groq",
    id: "chatcmpl-3556c041-562b-471f-9a90-763dbcea5a3f",
    model: "qwen/qwen3-32b",
    text: {
      length: 347,
      sha256: "c19609678caf916a806eac1d97cf4bf8fd56aeaa5aba0a252aab48fe7e2ae8b4",
      head: "The word **\"strawberry\"** is spelled as "
    },
    reasoning: {
      length: 2952,
      sha256: "a8661d5bd141de42fe1683760783adf1557a8c14802bb4c7cfffcfb3d78f0943",
      head: "Okay, let me try to figure out how many "
    },
    toolCalls: [],
    finishReason: "stop",
    rawFinishReason: "stop",
    usage: { inputTokens: 17, outputTokens: 1107, totalTokens: 1124, reasoningTokens: 963 }
  },
  {
    file: "groq/groq-text.chunks.txt",
    provider: "groq",
    id: "chatcmpl-7eb08824-fb8d-47af-a1f0-3aa786f2d1f3",
    model: "llama-3.3-70b-versatile",
    text: {
      length: 3189,
      sha256: "ca1f8ad858e90cfae58a43d5a1aa6cf08d2f572b50f498e121da8415e36f9063",
      head: "Introducing \"Luminaria\" - a new holiday "
    },
    toolCalls: [],
    finishReason: "stop",
    rawFinishReason: "stop",
    usage: { inputTokens: 45, outputTokens: 662, totalTokens: 707 }
  },
  {
    file: "groq/groq-tool-call.chunks.txt",
    provider: "groq",
    id: "chatcmpl-b610d559-f156-4aca-8827-24b4fe6af54f",
    model: "llama-3.3-70b-versatile",
    text: empty,
    toolCalls: [{ id: "tk85n1k4m", name: "weather", rawArguments: "{}" }],
    finishReason: "tool_calls",
    rawFinishReason: "tool_calls",
    usage: { inputTokens: 210, outputTokens: 15, totalTokens: 225 }
  },
  {
    file: "mistral/mistral-incremental-tool-call.chunks.txt",
    provider: "mistral",
    id: "735e434874a24f68a2390b3cab149242",
    model: "zai-glm-5-2",
    text: empty,
    toolCalls: [{
      id: "chatcmpl-tool-9f149c74c42f265b",
      name: "webSearchTool",
      rawArguments: "{\"query\": \"current Berlin weather\"}"
    }],
    finishReason: "tool_calls",
    rawFinishReason: "tool_calls",
    usage: { inputTokens: 171, outputTokens: 14, totalTokens: 185, cachedInputTokens: 128 }
  },
  {
    file: "mistral/mistral-reasoning.chunks.txt",
    provider: "mistral",
    id: "a4e29c5b82f94d67b23e108a7c9df6e1",
    model: "magistral-medium-2507",
    text: {
      length: 9,
      sha256: "e93dff0d1076b537cd1bd659d14bb77d5fd47db13204a227cb3cd66e81dd454c",
      head: "2 + 2 = 4"
    },
    reasoning: {
      length: 60,
      sha256: "3ee98375cfe6fe4ef8e5dc1d33d280f6223bb04ae9315cadefa153f4dd95d1e8",
      head: "The user is asking for 2+2. This is basi"
    },
    toolCalls: [],
    finishReason: "stop",
    rawFinishReason: "stop",
    usage: { inputTokens: 10, outputTokens: 46, totalTokens: 56 }
  },
  {
    file: "mistral/mistral-text.chunks.txt",
    provider: "mistral",
    id: "5319bd0299614c679a0068a4f2c8ffd0",
    model: "mistral-small-latest",
    text: {
      length: 38,
      sha256: "6f535b2dbeda9ac432003b351cd78e51de8ef35eb2b41602dabd91b4bd9962c4",
      head: "Hello, world! This is a test response."
    },
    toolCalls: [],
    finishReason: "stop",
    rawFinishReason: "stop",
    usage: { inputTokens: 13, outputTokens: 8, totalTokens: 21 }
  },
  {
    file: "mistral/mistral-tool-call.chunks.txt",
    provider: "mistral",
    id: "b3999b8c93e04e11bcbff7bcab829667",
    model: "mistral-small-latest",
    text: empty,
    toolCalls: [{ id: "gSIMJiOkT", name: "weather", rawArguments: weatherSF }],
    finishReason: "tool_calls",
    rawFinishReason: "tool_calls",
    usage: { inputTokens: 124, outputTokens: 22, totalTokens: 146 }
  },
  {
    file: "xai/xai-text.chunks.txt",
    provider: "xai",
    id: "7327b9f5-1c2f-0a15-3fef-c14a71c460d3",
    model: "grok-3-mini",
    text: {
      length: 5,
      sha256: "185f8db32271fe25f561a6fc938b2e264306ec304eda518007d1764826381969",
      head: "Hello"
    },
    reasoning: {
      length: 20,
      sha256: "77ca8189f8c592ca5dbfd811427cd325ab973a66191a40585e2ef02d4723d102",
      head: "First, the user said"
    },
    toolCalls: [],
    finishReason: "stop",
    rawFinishReason: "stop",
    // xAI leaves reasoning out of completion_tokens: 1 + 290
    usage: { inputTokens: 12, outputTokens: 291, totalTokens: 303, cachedInputTokens: 11, reasoningTokens: 290 }
  },
  {
    file: "xai/xai-tool-call.chunks.txt",
    provider: "xai",
    id: "de9d896d-e946-b3a7-bb14-75ab33326930",
    model: "grok-3-mini",
    text: empty,
    reasoning: {
      length: 18,
      sha256: "63295441958c274810f7a96b8b5aaff6490e8a81d2aec2f680bf474f0763aa2e",
      head: "First, the user is"
    },
    toolCalls: [{ id: "call_55117580", name: "weather", rawArguments: weatherSFCompact }],
    finishReason: "tool_calls",
    rawFinishReason: "tool_calls",
    usage: { inputTokens: 291, outputTokens: 222, totalTokens: 513, cachedInputTokens: 290, reasoningTokens: 196 }
  },
  {
    file: "openai-compatible/chat/xai-text.chunks.txt",
    provider: "xai",
    id: "f0f0f217-c24d-1fee-5fe3-28fa1d3c8c94",
    model: "grok-3-mini",
    text: {
      length: 4,
      sha256: "dca61d32363b091bf130e0b539eaa6557a3a035be17a1be1e3dc2c183eafcd2f",
      head: "Grok"
    },
    reasoning: {
      length: 1455,
      sha256: "822137627c2158b3af0788eabe6cb86165785a51d858d70418c4d3c06201221d",
      head: "First, the user said: \"Say a single word"
    },
    toolCalls: [],
    finishReason: "stop",
    rawFinishReason: "stop",
    usage: { inputTokens: 12, outputTokens: 342, totalTokens: 354, cachedInputTokens: 11, reasoningTokens: 340 }
  },
  {
    file: "openai-compatible/chat/xai-tool-call.chunks.txt",
    provider: "xai",
    id: "7027d986-3c59-a37a-9a5f-50713e01c8a6",
    model: "grok-3-mini",
    text: empty,
    reasoning: {
      length: 1069,
      sha256: "7df9a5068fc57ed4c3b8a1639dc6b569a75dfcf8859c7fd2320f84e9a4d6bc6f",
      head: "First, the user is asking about the weat"
    },
    toolCalls: [{ id: "call_79382389", name: "weather", rawArguments: weatherSFCompact }],
    finishReason: "tool_calls",
    rawFinishReason: "tool_calls",
    usage: { inputTokens: 307, outputTokens: 253, totalTokens: 560, cachedInputTokens: 306, reasoningTokens: 227 }
  },
  {
    file: "openai-compatible/chat/anthropic-fallback-tool-call.sse",
    provider: "anthropic-compat",
    id: "msg_sanitized",
    model: "claude-haiku-4-5-20251001",
    text: {
      length: 11,
      sha256: "3f1e3d85c76a04cc684b8c21299dfee250c1aa872dfe574bf47cac311c25cd76",
      head: "Reading it."
    },
    // tool call index starting at 1, no usage chunk
    toolCalls: [{ id: "toolu_sanitized", name: "read_file", rawArguments: "{\"path\": \"a.txt\"}" }],
    finishReason: "tool_calls",
    rawFinishReason: "tool_calls",
    usage: undefined
  }
]

interface JsonCase {
  readonly file: string
  readonly provider: string
  readonly id: string
  readonly model: string
  readonly text: TextExpectation
  readonly reasoning?: { readonly length: number; readonly sha256: string }
  readonly toolCalls: ReadonlyArray<{ readonly id: string; readonly name: string; readonly rawArguments: string }>
  readonly finishReason: ChatResult.FinishReason
  readonly usage: Usage.Usage
  readonly metadata?: Readonly<Record<string, unknown>>
}

const jsonCases: ReadonlyArray<JsonCase> = [
  {
    file: "openai/chat/openai-text.json",
    provider: "openai",
    id: "chatcmpl-D8Z5f52zQqikDBEKQMQoYcWMcWPeU",
    model: "gpt-4.1-nano-2025-04-14",
    text: {
      length: 1842,
      sha256: "0bd93e941831fcdd0cead365718237285a315e63f5e693b7cd532fbb221ef58f",
      head: "**Holiday Name:** Galaxy Day  \n\n**Date:*"
    },
    toolCalls: [],
    finishReason: "stop",
    usage: { inputTokens: 16, outputTokens: 363, totalTokens: 379, cachedInputTokens: 0, reasoningTokens: 0 },
    metadata: { finishReason: "stop", systemFingerprint: "fp_de604bd877", serviceTier: "default" }
  },
  {
    file: "deepseek/chat/deepseek-json.json",
    provider: "deepseek",
    id: "f03bc170-b375-4561-9685-35182c8152c5",
    model: "deepseek-reasoner",
    text: {
      length: 78,
      sha256: "ab105345f96a2f17ab07873f934512c9cbed883b4900b1b5c5e88b0d354b8458",
      head: "{\n  \"location\": \"San Francisco\",\n  \"cond"
    },
    reasoning: { length: 558, sha256: "77de7a46885adaa3aea0c1a484b4cf3990558165f696e08c7f78132ede0cdf88" },
    toolCalls: [],
    finishReason: "stop",
    usage: { inputTokens: 495, outputTokens: 144, totalTokens: 639, cachedInputTokens: 320, reasoningTokens: 118 }
  },
  {
    file: "deepseek/chat/deepseek-text.json",
    provider: "deepseek",
    id: "00f10ecd-60b3-4707-b5db-e4bcadf7aea1",
    model: "deepseek-chat",
    text: {
      length: 1375,
      sha256: "98a13b04aa9efed6228730c9ef366980326ca8ce8662bfaa0db2bb84601dbbd4",
      head: "## **Holiday Name: Gratitude of Small Th"
    },
    toolCalls: [],
    finishReason: "length",
    usage: { inputTokens: 13, outputTokens: 300, totalTokens: 313, cachedInputTokens: 0 }
  },
  {
    file: "groq/groq-text.json",
    provider: "groq",
    id: "chatcmpl-09d64d2a-ed1c-4473-829f-78db43f45d13",
    model: "llama-3.3-70b-versatile",
    text: {
      length: 2953,
      sha256: "3cb2fb56b7cc26b37c92045da39bf1584860fd63b662c6fdc0220ba103da8cc5",
      head: "I'd like to introduce \"Luminaria\" - a jo"
    },
    toolCalls: [],
    finishReason: "stop",
    usage: { inputTokens: 45, outputTokens: 607, totalTokens: 652 }
  },
  {
    file: "mistral/mistral-text.json",
    provider: "mistral",
    id: "5319bd0299614c679a0068a4f2c8ffd0",
    model: "mistral-small-latest",
    text: {
      length: 1926, // UTF-16 code units (one character outside the BMP)
      sha256: "744e3a012c895d61979c0a762de209842f031a24dc027c8cf49e88252abbd58f",
      head: "**Holiday Name: \"World Kindness Day of S"
    },
    toolCalls: [],
    finishReason: "stop",
    usage: { inputTokens: 13, outputTokens: 434, totalTokens: 447 }
  },
  {
    // xAI leaves reasoning out of completion_tokens: 12 + 2 + 320 = 334 = total_tokens
    file: "openai-compatible/chat/xai-text.json",
    provider: "xai",
    id: "edea4703-19aa-6d74-fedb-dc1c213543e0",
    model: "grok-3-mini",
    text: {
      length: 4,
      sha256: "dca61d32363b091bf130e0b539eaa6557a3a035be17a1be1e3dc2c183eafcd2f",
      head: "Grok"
    },
    reasoning: { length: 1367, sha256: "45cf12075f51391a29fa659e48a7b89d7447106746999b6b91eb1f6949bdc324" },
    toolCalls: [],
    finishReason: "stop",
    usage: { inputTokens: 12, outputTokens: 322, totalTokens: 334, cachedInputTokens: 2, reasoningTokens: 320 }
  },
  {
    // 291 + 26 + 189 = 506 = total_tokens
    file: "xai/xai-tool-call.json",
    provider: "xai",
    id: "61c0468b-2a98-413e-f654-dbffcdbb62c1",
    model: "grok-3-mini",
    text: empty,
    reasoning: { length: 357, sha256: "634b9de53cb52f6a6ac155490f68d2c21260296282f684d23e4303761362bc85" },
    toolCalls: [{ id: "call_93562515", name: "weather", rawArguments: "{\"location\":\"San Francisco\"}" }],
    finishReason: "tool_calls",
    usage: { inputTokens: 291, outputTokens: 215, totalTokens: 506, cachedInputTokens: 244, reasoningTokens: 189 }
  },
  {
    file: "deepseek/chat/deepseek-reasoning.json",
    provider: "deepseek",
    id: "945bb10c-9bf3-47ff-a2a2-43bbe9705c72",
    model: "deepseek-reasoner",
    text: {
      length: 107,
      sha256: "30d7e2a8ff04fb28c0c56e2d6a022a61bb1b9c22d7c48ccbecfa80c6815c422a",
      head: "The word \"strawberry\" contains three ins"
    },
    reasoning: { length: 935, sha256: "5d222a8c19bc857e64b9f487f06df161e5a48db37ef805f3bd586e998f4829d8" },
    toolCalls: [],
    finishReason: "stop",
    usage: { inputTokens: 18, outputTokens: 345, totalTokens: 363, cachedInputTokens: 0, reasoningTokens: 315 }
  },
  {
    file: "deepseek/chat/deepseek-tool-call.json",
    provider: "deepseek",
    id: "7a630f5b-b7e6-4878-82f8-d77db164d42b",
    model: "deepseek-reasoner",
    text: empty,
    reasoning: { length: 242, sha256: "d5434badc4daac3678b10be82b7b6eec0ac18fe757eb56274923fecd3ac6cf2b" },
    toolCalls: [{ id: "call_00_9V0vrf86Pc9aelHCJMZqnJBo", name: "weather", rawArguments: weatherSF }],
    finishReason: "tool_calls",
    usage: { inputTokens: 339, outputTokens: 92, totalTokens: 431, cachedInputTokens: 320, reasoningTokens: 48 }
  },
  {
    file: "groq/groq-reasoning.json",
    provider: "groq",
    id: "chatcmpl-73cf8a54-d54e-400c-88b8-603d1a346d96",
    model: "qwen/qwen3-32b",
    text: {
      length: 206,
      sha256: "fd8a18719dd4c0b376b0c91733766501470f1bb2bfd68e434f24c0923ae0aed7",
      head: "The word \"strawberry\" contains **3** ins"
    },
    reasoning: { length: 1724, sha256: "824c135ad3f2a29b3d98d7265b7f1c949fb0b6eaf255ba577d09ec76b8cd6b0d" },
    toolCalls: [],
    finishReason: "stop",
    usage: { inputTokens: 17, outputTokens: 649, totalTokens: 666, reasoningTokens: 570 },
    metadata: { finishReason: "stop", systemFingerprint: "fp_5cf921caa2", serviceTier: "on_demand" }
  },
  {
    file: "groq/groq-tool-call.json",
    provider: "groq",
    id: "chatcmpl-1fd017fc-60b8-44eb-a736-375b8e1bc3e7",
    model: "llama-3.3-70b-versatile",
    text: empty,
    toolCalls: [{ id: "ax9fskhev", name: "weather", rawArguments: "{}" }],
    finishReason: "tool_calls",
    usage: { inputTokens: 218, outputTokens: 15, totalTokens: 233 }
  },
  {
    file: "mistral/mistral-reasoning.json",
    provider: "mistral",
    id: "a4e29c5b82f94d67b23e108a7c9df6e1",
    model: "magistral-medium-2507",
    text: {
      length: 9,
      sha256: "e93dff0d1076b537cd1bd659d14bb77d5fd47db13204a227cb3cd66e81dd454c",
      head: "2 + 2 = 4"
    },
    reasoning: { length: 60, sha256: "3ee98375cfe6fe4ef8e5dc1d33d280f6223bb04ae9315cadefa153f4dd95d1e8" },
    toolCalls: [],
    finishReason: "stop",
    usage: { inputTokens: 10, outputTokens: 46, totalTokens: 56 }
  },
  {
    file: "mistral/mistral-tool-call.json",
    provider: "mistral",
    id: "b3999b8c93e04e11bcbff7bcab829667",
    model: "mistral-small-latest",
    text: empty,
    toolCalls: [{ id: "gSIMJiOkT", name: "weather", rawArguments: weatherSF }],
    finishReason: "tool_calls",
    usage: { inputTokens: 124, outputTokens: 22, totalTokens: 146 }
  },
  {
    file: "xai/xai-text.json",
    provider: "xai",
    id: "2af5c888-e886-6dcb-7844-95f8fe010b00",
    model: "grok-3-mini",
    text: {
      length: 5,
      sha256: "185f8db32271fe25f561a6fc938b2e264306ec304eda518007d1764826381969",
      head: "Hello"
    },
    reasoning: { length: 189, sha256: "2cfc69b35d08b4995570d619f446b02441a55aa83a6067dcb8f2da54c3b1e030" },
    toolCalls: [],
    finishReason: "stop",
    usage: { inputTokens: 12, outputTokens: 229, totalTokens: 241, cachedInputTokens: 2, reasoningTokens: 228 }
  },
  {
    file: "openai-compatible/chat/xai-tool-call.json",
    provider: "xai",
    id: "acfa24c3-b556-0f2c-731e-64fb836d544b",
    model: "grok-3-mini",
    text: empty,
    reasoning: { length: 1194, sha256: "bd51900497af9610aeaf8f31208eeb41e6b4d6852d21799bd20c6b865aee330f" },
    toolCalls: [{ id: "call_46427107", name: "weather", rawArguments: weatherSFCompact }],
    finishReason: "tool_calls",
    usage: { inputTokens: 307, outputTokens: 281, totalTokens: 588, cachedInputTokens: 244, reasoningTokens: 255 }
  }
]

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

const request = Either.getOrThrow(ChatRequest.make({ model: "any", messages: "hi", maxTokens: 500 }))

const provider = (name: string, options: Partial<OpenAI.Options> = {}) =>
  name === "openai"
    ? OpenAI.make({ apiKey: "sk-test-fixture", baseUrl: `${server.url}/v1`, ...options })
    : OpenAI.make({ name, baseUrl: `${server.url}/compat/v1/`, maxTokensField: "max_tokens", ...options })

const call = (model: string) => ({ request, model, timeouts: Timeouts.hosted, attempt: 1 })

/** Uneven write sizes: lines and UTF-8 sequences get split across network reads. */
const pieces = [7, 64, 3, 500, 1, 129]

const wireOf = (file: string): string => {
  const text = readFixture(file)
  if (!file.endsWith(".sse")) return chunksToSse(text)
  // The recorded wire's last event (`data: [DONE]`) lost its blank line when stored; a
  // server terminates every event with one (see the raw replay test below).
  return text.endsWith("\n\n") ? text : text.endsWith("\n") ? text + "\n" : text + "\n\n"
}

const expectText = (actual: string | undefined, expected: TextExpectation | undefined) => {
  if (expected === undefined || expected.length === 0) {
    expect(actual ?? "").toBe("")
    return
  }
  expect(actual).toBeDefined()
  expect(actual!.length).toBe(expected.length)
  expect(actual!.slice(0, expected.head.length)).toBe(expected.head)
  expect(sha(actual!)).toBe(expected.sha256)
}

/** Start first, Finish last, tool-call events well formed. */
const checkOrder = (events: ReadonlyArray<StreamEvent.StreamEvent>) => {
  expect(events[0]?._tag).toBe("Start")
  expect(events[events.length - 1]?._tag).toBe("Finish")
  expect(events.filter((e) => e._tag === "Start" || e._tag === "Finish").length).toBe(2)
  const open = new Map<string, Array<string>>()
  for (const event of events) {
    if (event._tag === "ToolCallStart") {
      expect(open.has(event.id)).toBe(false)
      open.set(event.id, [])
    } else if (event._tag === "ToolCallDelta") {
      expect(open.has(event.id)).toBe(true)
      open.get(event.id)!.push(event.argumentsDelta)
    } else if (event._tag === "ToolCallEnd") {
      expect(open.get(event.id)?.join("")).toBe(event.rawArguments)
      open.delete(event.id)
    }
  }
  expect(open.size).toBe(0)
}

describe("recorded streams over HTTP", () => {
  it("every OpenAI chat fixture is covered", () => {
    const covered = new Set([...streamCases.map((c) => c.file), ...jsonCases.map((c) => c.file)])
    covered.add("openai/chat/reasoning-model-legacy-parameter-error.json")
    for (const file of listFixtures("openai/chat")) expect(covered.has(file), file).toBe(true)
  })

  it("every chat fixture of the OpenAI-compatible providers is covered", () => {
    const covered = new Set([...streamCases.map((c) => c.file), ...jsonCases.map((c) => c.file)])
    // not Chat Completions: audio transcription responses (another API, which we do not speak)
    const otherApis = new Set(["groq/groq-transcription-text.json", "mistral/mistral-transcription.json"])
    const folders = ["openai-compatible/chat", "deepseek/chat", "groq", "mistral", "xai"]
    const files = folders.flatMap((folder) => listFixtures(folder)).filter((f) => /\.(json|txt|sse)$/.test(f))
    expect(files.length).toBeGreaterThan(20)
    for (const file of files) if (!otherApis.has(file)) expect(covered.has(file), file).toBe(true)
  })

  for (const c of streamCases) {
    it.effect(c.file, () =>
      Effect.gen(function*() {
        server.handle(() => sse(wireOf(c.file), pieces))
        const p = yield* provider(c.provider)
        const events = yield* Stream.runCollect(p.chatStream(call("requested-model"))).pipe(
          Effect.map((chunk) => Array.from(chunk))
        )
        checkOrder(events)
        expect(events[0]).toEqual(StreamEvent.start(c.id, c.model, c.provider))
        const result = StreamEvent.accumulateAll(events)
        expectText(result.text, c.text)
        expectText(result.reasoning, c.reasoning)
        expect(result.toolCalls.map((t) => ({ id: t.id, name: t.name, rawArguments: t.rawArguments })))
          .toEqual(c.toolCalls)
        for (const t of result.toolCalls) expect(t.arguments).toEqual(JSON.parse(t.rawArguments))
        expect(result.finishReason).toBe(c.finishReason)
        const finish = events[events.length - 1] as StreamEvent.Finish
        expect(finish.usage).toEqual(c.usage)
        expect((finish.providerMetadata?.[c.provider] as Record<string, unknown>).finishReason)
          .toBe(c.rawFinishReason)
        const sent = server.requests[server.requests.length - 1]!
        expect(sent.method).toBe("POST")
        expect(sent.path).toBe(c.provider === "openai" ? "/v1/chat/completions" : "/compat/v1/chat/completions")
        expect(sent.body.stream).toBe(true)
        expect(sent.body.stream_options).toEqual({ include_usage: true })
        expect(sent.body.model).toBe("requested-model")
        if (c.provider === "openai") {
          expect(sent.headers.authorization).toBe("Bearer sk-test-fixture")
          expect(sent.body.max_completion_tokens).toBe(500)
        } else {
          expect(sent.headers.authorization).toBeUndefined()
          expect(sent.body.max_tokens).toBe(500)
        }
        expect(sent.headers.accept).toBe("text/event-stream")
      }).pipe(Effect.provide(UndiciHttpClient.layer())))
  }

  it.effect("the .sse fixture exactly as stored: its unterminated [DONE] is not an event", () =>
    Effect.gen(function*() {
      const raw = readFixture("openai-compatible/chat/anthropic-fallback-tool-call.sse")
      expect(raw.endsWith("data: [DONE]\n")).toBe(true)
      server.handle(() => sse(raw))
      const strict = yield* provider("anthropic-compat")
      const error = yield* Effect.flip(Stream.runDrain(strict.chatStream(call("m"))))
      expect(error._tag).toBe("ProtocolError")
      expect(error.message).toContain("[DONE]")
      // a finish_reason arrived, so the lenient mode accepts it
      const lenient = yield* provider("anthropic-compat", { lenientStreamEnd: true })
      const result = yield* StreamEvent.accumulate(lenient.chatStream(call("m")))
      expect(result.finishReason).toBe("tool_calls")
      expect(result.toolCalls.map((t) => t.id)).toEqual(["toolu_sanitized"])
    }).pipe(Effect.provide(UndiciHttpClient.layer())))
})

describe("recorded JSON responses over HTTP", () => {
  for (const c of jsonCases) {
    it.effect(c.file, () =>
      Effect.gen(function*() {
        server.handle(() => json(JSON.parse(readFixture(c.file)), 200, { "x-request-id": "req_fixture" }))
        const p = yield* provider(c.provider)
        const result = yield* p.chat(call("requested-model"))
        expect(result.id).toBe(c.id)
        expect(result.model).toBe(c.model)
        expect(result.provider).toBe(c.provider)
        expect(result.requestId).toBe("req_fixture")
        expectText(result.text, c.text)
        if (c.reasoning === undefined) {
          expect(result.reasoning).toBeUndefined()
        } else {
          expect(result.reasoning?.length).toBe(c.reasoning.length)
          expect(sha(result.reasoning!)).toBe(c.reasoning.sha256)
        }
        expect(result.toolCalls.map((t) => ({ id: t.id, name: t.name, rawArguments: t.rawArguments })))
          .toEqual(c.toolCalls)
        for (const t of result.toolCalls) expect(t.arguments).toEqual(JSON.parse(t.rawArguments))
        expect(result.finishReason).toBe(c.finishReason)
        expect(result.usage).toEqual(c.usage)
        expect(result.timing.ttfbMs).toBeGreaterThanOrEqual(0)
        if (c.metadata !== undefined) {
          expect(result.providerMetadata?.[c.provider]).toMatchObject(c.metadata)
        }
        const sent = server.requests[server.requests.length - 1]!
        expect(sent.body.stream).toBeUndefined()
        expect(sent.headers.accept).toBe("application/json")
      }).pipe(Effect.provide(UndiciHttpClient.layer())))
  }

  it.effect("openai/chat/reasoning-model-legacy-parameter-error.json as a 400 → InvalidRequestError", () =>
    Effect.gen(function*() {
      const body = JSON.parse(readFixture("openai/chat/reasoning-model-legacy-parameter-error.json"))
      server.handle(() => json(body, 400, { "x-request-id": "req_400" }))
      const p = yield* provider("openai")
      const error = yield* Effect.flip(p.chat(call("o3-mini")))
      expect(error._tag).toBe("InvalidRequestError")
      expect(error.message).toContain(
        "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."
      )
      expect(error.status).toBe(400)
      expect(error.code).toBe("unsupported_parameter")
      expect(error._tag === "InvalidRequestError" && error.param).toBe("max_tokens")
      expect(error.requestId).toBe("req_400")
      expect(error.retryable).toBe(false)
      expect(JSON.stringify(error)).not.toContain("sk-test-fixture")
      // …which is why the OpenAI provider sends max_completion_tokens
      expect(server.requests[server.requests.length - 1]!.body.max_completion_tokens).toBe(500)
      expect(server.requests[server.requests.length - 1]!.body.max_tokens).toBeUndefined()
    }).pipe(Effect.provide(UndiciHttpClient.layer())))
})
