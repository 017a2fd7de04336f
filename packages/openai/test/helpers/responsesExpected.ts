/**
 * Expected results of the recorded Responses API traffic (`fixtures/vercel-ai/openai/responses`,
 * `xai/responses`), read from the data by an independent script: text, reasoning and tool
 * calls from the final `Response` object of each stream step (cross-checked against the
 * stream's `*.done` events), usage from `response.usage`. Text is compared by length, head
 * and SHA-256 (lengths in UTF-16 code units, as JavaScript counts them).
 *
 * Streams deliver their deltas, completed by a part's `.done` text when the deltas are a
 * prefix of it; the one recording whose deltas diverge from its final text
 * (`openai-shell-container.1.chunks.txt`: 29 streamed characters, 190 final) expects the
 * deltas. Error bodies, the error stream and the malformed `parallel-tool-call-wrapper`
 * stream have hand-written tests in `responsesFixtures.test.ts`.
 */
import type { ResponsesCase } from "./responsesCase.js"

export const responsesCases: ReadonlyArray<ResponsesCase> = [
  {
    file: "openai/responses/github-copilot-id-rotation.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "capture-id-1",
    model: "gpt-5.3-codex",
    text: {
      "length": 138,
      "sha256": "2b565af7080a8d41bdc92a13e1b51800b3029e777410117ce2712077ba9b98c1",
      "head": "There are **3** letter **“r”**s in **“st"
    },
    reasoning: {
      "length": 34,
      "sha256": "cdddc372d80a71a890905a4c40769b3f466b386e37808ab0a8676f108a0c27df",
      "head": "**Counting character occurrences**"
    },
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 19,
      "outputTokens": 105,
      "totalTokens": 124,
      "cachedInputTokens": 0,
      "cacheWriteTokens": 0,
      "reasoningTokens": 44
    },
    skipped: []
  },
  {
    file: "openai/responses/openai-apply-patch-tool-delete.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_delete_001",
    model: "gpt-5.1-2025-11-13",
    text: undefined,
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: { "inputTokens": 24, "outputTokens": 0, "totalTokens": 24, "cachedInputTokens": 0, "reasoningTokens": 0 },
    skipped: ["apply_patch_call"]
  },
  {
    file: "openai/responses/openai-apply-patch-tool.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_0372d86dfc1762fe00692741f339a08190bce9b78ee2079295",
    model: "gpt-5.1-2025-11-13",
    text: undefined,
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: { "inputTokens": 642, "outputTokens": 67, "totalTokens": 709, "cachedInputTokens": 0, "reasoningTokens": 0 },
    skipped: ["apply_patch_call"]
  },
  {
    file: "openai/responses/openai-apply-patch-tool.1.json",
    kind: "json",
    id: "resp_0b04c5f8dfc43af500692749bc5b288197b45e830995fd32d3",
    model: "gpt-5.1-2025-11-13",
    text: undefined,
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: { "inputTokens": 642, "outputTokens": 67, "totalTokens": 709, "cachedInputTokens": 0, "reasoningTokens": 0 },
    skipped: ["apply_patch_call"]
  },
  {
    file: "openai/responses/openai-client-tool-search.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_05147bbe356953b60069ab67352c908196a63357757792b203",
    model: "gpt-5.4-2026-03-05",
    text: undefined,
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: { "inputTokens": 65, "outputTokens": 31, "totalTokens": 96, "cachedInputTokens": 0, "reasoningTokens": 0 },
    skipped: ["tool_search_call"]
  },
  {
    file: "openai/responses/openai-client-tool-search.1.json",
    kind: "json",
    id: "resp_01166e06cf473fc80169ab66e9ce7c8196aa77df57a31b8230",
    model: "gpt-5.4-2026-03-05",
    text: undefined,
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: { "inputTokens": 65, "outputTokens": 28, "totalTokens": 93, "cachedInputTokens": 0, "reasoningTokens": 0 },
    skipped: ["tool_search_call"]
  },
  {
    file: "openai/responses/openai-client-tool-search.2.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_05147bbe356953b60069ab6736cddc8196933842ce635db83f",
    model: "gpt-5.4-2026-03-05",
    text: undefined,
    reasoning: undefined,
    toolCalls: [{
      "id": "call_Q7pq6EfVGRnauPLWSSYBGJ1l",
      "name": "get_weather",
      "rawArguments": "{\"location\":\"San Francisco, CA\",\"unit\":\"fahrenheit\"}"
    }],
    finishReason: "tool_calls",
    usage: { "inputTokens": 467, "outputTokens": 26, "totalTokens": 493, "cachedInputTokens": 0, "reasoningTokens": 0 },
    skipped: []
  },
  {
    file: "openai/responses/openai-client-tool-search.2.json",
    kind: "json",
    id: "resp_01166e06cf473fc80169ab66eaadc8819680a3e03ef7363017",
    model: "gpt-5.4-2026-03-05",
    text: undefined,
    reasoning: undefined,
    toolCalls: [{
      "id": "call_heVrRaKZEJbsRvHvaEf5BLUI",
      "name": "get_weather",
      "rawArguments": "{\"location\":\"San Francisco, CA\",\"unit\":\"fahrenheit\"}"
    }],
    finishReason: "tool_calls",
    usage: { "inputTokens": 461, "outputTokens": 26, "totalTokens": 487, "cachedInputTokens": 0, "reasoningTokens": 0 },
    skipped: []
  },
  {
    file: "openai/responses/openai-code-interpreter-tool.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_68c2e6efa238819383d5f52a2c2a3baa02d3a5742c7ddae9",
    model: "gpt-5-nano-2025-08-07",
    text: {
      "length": 596,
      "sha256": "e63f8a3fd5c572bada2e6a539a8d605deb22e1da1ab90347293c290c396b6a9e",
      "head": "Here’s a simulation of rolling two fair "
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 6047,
      "outputTokens": 1623,
      "totalTokens": 7670,
      "cachedInputTokens": 2944,
      "reasoningTokens": 1408
    },
    skipped: ["code_interpreter_call"]
  },
  {
    file: "openai/responses/openai-code-interpreter-tool.1.json",
    kind: "json",
    id: "resp_024ee52fc1900767006903bf276a60819395647a8a01d4a3d8",
    model: "gpt-5-nano-2025-08-07",
    text: {
      "length": 461,
      "sha256": "b3269ffb61429533609ae14abc74e0fbc83a931fd6aed28b2a1aca9efd25f910",
      "head": "I ran 10,000 trials of rolling two dice "
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 2283,
      "outputTokens": 1928,
      "totalTokens": 4211,
      "cachedInputTokens": 0,
      "reasoningTokens": 1792
    },
    skipped: ["code_interpreter_call"]
  },
  {
    file: "openai/responses/openai-compaction.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_0e2ed64344ac7f31016994b30480ac819785e6e4cd43a28c52",
    model: "gpt-5.2-2025-12-11",
    text: {
      "length": 3483,
      "sha256": "aa8ac72b5c7573eccf2b1dfd8a6781ca8b708d670537b699d45ddc23b29b8b12",
      "head": "### Testing strategies: unit vs integrat"
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 51097,
      "outputTokens": 2505,
      "totalTokens": 53602,
      "cachedInputTokens": 49792,
      "reasoningTokens": 0
    },
    skipped: ["compaction"]
  },
  {
    file: "openai/responses/openai-compaction.1.json",
    kind: "json",
    id: "resp_0a311635443846b4016994b3e120508196a579ec5483942284",
    model: "gpt-5.2-2025-12-11",
    text: {
      "length": 3064,
      "sha256": "17059f5b1689055c7962e72efdf9eb090845714abbba16883178d50098af7576",
      "head": "### Testing strategies: unit vs integrat"
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 51097,
      "outputTokens": 2056,
      "totalTokens": 53153,
      "cachedInputTokens": 0,
      "reasoningTokens": 0
    },
    skipped: ["compaction"]
  },
  {
    file: "openai/responses/openai-custom-tool.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_custom_tool_test_001",
    model: "gpt-5.2-codex",
    text: undefined,
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: { "inputTokens": 50, "outputTokens": 20, "totalTokens": 70, "cachedInputTokens": 0, "reasoningTokens": 0 },
    skipped: ["custom_tool_call"]
  },
  {
    file: "openai/responses/openai-custom-tool.1.json",
    kind: "json",
    id: "resp_custom_tool_test_001",
    model: "gpt-5.2-codex",
    text: undefined,
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: { "inputTokens": 50, "outputTokens": 20, "totalTokens": 70, "cachedInputTokens": 0, "reasoningTokens": 0 },
    skipped: ["custom_tool_call"]
  },
  {
    file: "openai/responses/openai-file-search-tool.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_0459517ad68504ad0068cabfba22b88192836339640e9a765a",
    model: "gpt-5-mini-2025-08-07",
    text: {
      "length": 383,
      "sha256": "a39952f12b73f71d31b93a51a37c65840bc5c97c620ab6c1e9c91454ef2d32af",
      "head": "According to the document, an embedding "
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 3737,
      "outputTokens": 621,
      "totalTokens": 4358,
      "cachedInputTokens": 2304,
      "reasoningTokens": 512
    },
    skipped: ["file_search_call"]
  },
  {
    file: "openai/responses/openai-file-search-tool.1.json",
    kind: "json",
    id: "resp_0a098396a8feca410068caae39e7648196b346e99fa8ec494c",
    model: "gpt-5-mini-2025-08-07",
    text: {
      "length": 439,
      "sha256": "ac72500b1668506ea4b157acdb6b4edc49af0366ef38df76e8aa2327ea99e729",
      "head": "According to the document, an embedding "
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 3700,
      "outputTokens": 741,
      "totalTokens": 4441,
      "cachedInputTokens": 2560,
      "reasoningTokens": 640
    },
    skipped: ["file_search_call"]
  },
  {
    file: "openai/responses/openai-file-search-tool.2.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_06456cb9918b63780068cacd710b0881a1b00b5fca56e7100b",
    model: "gpt-5-mini-2025-08-07",
    text: {
      "length": 380,
      "sha256": "79e3466620188eb6c6cd96ca5fc428ef9539c8e1bdd33c901c79ba60372b9b7e",
      "head": "The document defines an embedding model "
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 3748,
      "outputTokens": 543,
      "totalTokens": 4291,
      "cachedInputTokens": 2304,
      "reasoningTokens": 448
    },
    skipped: ["file_search_call"]
  },
  {
    file: "openai/responses/openai-file-search-tool.2.json",
    kind: "json",
    id: "resp_0365d26c32c64c650068cabb02fea4819495862c2bc58440ad",
    model: "gpt-5-mini-2025-08-07",
    text: {
      "length": 351,
      "sha256": "044fdf212de8c9373c45a976c6bc1cfda1611a6eaf371333310440451d865af3",
      "head": "According to the document, an embedding "
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 3678,
      "outputTokens": 536,
      "totalTokens": 4214,
      "cachedInputTokens": 2304,
      "reasoningTokens": 448
    },
    skipped: ["file_search_call"]
  },
  {
    file: "openai/responses/openai-image-generation-tool.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_0df93c0bb83a72f20068c979db26ac819e8b5a444fad3f0d7f",
    model: "gpt-5-2025-08-07",
    text: undefined,
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 2941,
      "outputTokens": 1249,
      "totalTokens": 4190,
      "cachedInputTokens": 1920,
      "reasoningTokens": 1024
    },
    skipped: ["image_generation_call"]
  },
  {
    file: "openai/responses/openai-image-generation-tool.1.json",
    kind: "json",
    id: "resp_0a33d15155cb126d0068c96c54970481958484dea31f07926d",
    model: "gpt-5-nano-2025-08-07",
    text: undefined,
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 3151,
      "outputTokens": 1970,
      "totalTokens": 5121,
      "cachedInputTokens": 0,
      "reasoningTokens": 1920
    },
    skipped: ["image_generation_call"]
  },
  {
    file: "openai/responses/openai-local-shell-tool.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_68da7fd5d24481949fc2cf1cc60377050faf5df54b42d9a6",
    model: "gpt-5-codex",
    text: undefined,
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 407,
      "outputTokens": 151,
      "totalTokens": 558,
      "cachedInputTokens": 0,
      "reasoningTokens": 128
    },
    skipped: ["local_shell_call"]
  },
  {
    file: "openai/responses/openai-local-shell-tool.1.json",
    kind: "json",
    id: "resp_68da74aaae58819ca776fbd20244e8df0fdbc19a07110799",
    model: "gpt-5-codex",
    text: undefined,
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: { "inputTokens": 407, "outputTokens": 24, "totalTokens": 431, "cachedInputTokens": 0, "reasoningTokens": 0 },
    skipped: ["local_shell_call"]
  },
  {
    file: "openai/responses/openai-mcp-tool-approval.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_04a97b4fce127879006949a837a3a48195b37f26ae73f550c0",
    model: "gpt-5-mini-2025-08-07",
    text: undefined,
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: { "inputTokens": 422, "outputTokens": 48, "totalTokens": 470, "cachedInputTokens": 0, "reasoningTokens": 0 },
    skipped: ["mcp_list_tools", "mcp_approval_request"]
  },
  {
    file: "openai/responses/openai-mcp-tool-approval.1.json",
    kind: "json",
    id: "resp_04f6b17429cf2b02006949a66d56088196a2d1b86e820556ce",
    model: "gpt-5-mini-2025-08-07",
    text: undefined,
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 422,
      "outputTokens": 104,
      "totalTokens": 526,
      "cachedInputTokens": 0,
      "reasoningTokens": 64
    },
    skipped: ["mcp_list_tools", "mcp_approval_request"]
  },
  {
    file: "openai/responses/openai-mcp-tool-approval.2.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_04a97b4fce127879006949a855fa68819598a2a379fd5b6c38",
    model: "gpt-5-mini-2025-08-07",
    text: {
      "length": 470,
      "sha256": "c1c7ca998bc47259edf3f18ce82c232bdd3443a5c6a99c1fc3cf44f6b45f5e99",
      "head": "I wasn’t able to create the short link b"
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 553,
      "outputTokens": 371,
      "totalTokens": 924,
      "cachedInputTokens": 0,
      "reasoningTokens": 256
    },
    skipped: ["mcp_list_tools"]
  },
  {
    file: "openai/responses/openai-mcp-tool-approval.2.json",
    kind: "json",
    id: "resp_04f6b17429cf2b02006949a673effc8196bc0d00ce027d3bdc",
    model: "gpt-5-mini-2025-08-07",
    text: {
      "length": 409,
      "sha256": "77c4abc5d263487479dfe38b356b819aa5797ced3a86582a713d71e5629ef394",
      "head": "I couldn't create the short link because"
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 592,
      "outputTokens": 421,
      "totalTokens": 1013,
      "cachedInputTokens": 0,
      "reasoningTokens": 320
    },
    skipped: ["mcp_list_tools"]
  },
  {
    file: "openai/responses/openai-mcp-tool-approval.3.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_04a97b4fce127879006949a864795c8195a77efd798149326b",
    model: "gpt-5-mini-2025-08-07",
    text: undefined,
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: { "inputTokens": 609, "outputTokens": 48, "totalTokens": 657, "cachedInputTokens": 0, "reasoningTokens": 0 },
    skipped: ["mcp_list_tools", "mcp_approval_request"]
  },
  {
    file: "openai/responses/openai-mcp-tool-approval.3.json",
    kind: "json",
    id: "resp_04f6b17429cf2b02006949a688b32881968e0f3ec6a9efe2da",
    model: "gpt-5-mini-2025-08-07",
    text: undefined,
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 587,
      "outputTokens": 104,
      "totalTokens": 691,
      "cachedInputTokens": 0,
      "reasoningTokens": 64
    },
    skipped: ["mcp_list_tools", "mcp_approval_request"]
  },
  {
    file: "openai/responses/openai-mcp-tool-approval.4.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_04a97b4fce127879006949a87ab0cc8195b3175edc260d6a88",
    model: "gpt-5-mini-2025-08-07",
    text: {
      "length": 221,
      "sha256": "f05900fd58fee45573819aff0d27fa42e574ab7913844f6011cbac8cfee2b6e6",
      "head": "Done — here’s your shortened link:\n\nhttp"
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: { "inputTokens": 779, "outputTokens": 69, "totalTokens": 848, "cachedInputTokens": 0, "reasoningTokens": 0 },
    skipped: ["mcp_list_tools", "mcp_call"]
  },
  {
    file: "openai/responses/openai-mcp-tool-approval.4.json",
    kind: "json",
    id: "resp_04f6b17429cf2b02006949a68dcefc81969600243221f290a7",
    model: "gpt-5-mini-2025-08-07",
    text: {
      "length": 260,
      "sha256": "e7ba43a0537cb7b8feec4a2938122b4d46ecde4388fbdeacfa8953c6630196d7",
      "head": "Done — I created a short link for you.\n\n"
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: { "inputTokens": 765, "outputTokens": 74, "totalTokens": 839, "cachedInputTokens": 0, "reasoningTokens": 0 },
    skipped: ["mcp_list_tools", "mcp_call"]
  },
  {
    file: "openai/responses/openai-mcp-tool.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_0c72b1033351981300690ccf79c6d88193b7d054f4f83ad50a",
    model: "gpt-5-mini-2025-08-07",
    text: {
      "length": 1264,
      "sha256": "bd82c739d2a9695b4c743ee9a9be2f5c217e638a60c6eb11112f415d5b22fc99",
      "head": "Yes — I searched the web. Major outlets "
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 11791,
      "outputTokens": 963,
      "totalTokens": 12754,
      "cachedInputTokens": 0,
      "reasoningTokens": 512
    },
    skipped: ["mcp_list_tools", "mcp_call"]
  },
  {
    file: "openai/responses/openai-mcp-tool.1.json",
    kind: "json",
    id: "resp_0a4801d792de11eb00690ccb85294c8197b71ddda28cf382e0",
    model: "gpt-5-mini-2025-08-07",
    text: {
      "length": 1180,
      "sha256": "bc90af9a13fb972f168de323b718c1b68154869f02879e5b8c5c0c4d1da26e77",
      "head": "Yes — the latest results (from Nov 4–6, "
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 6700,
      "outputTokens": 1078,
      "totalTokens": 7778,
      "cachedInputTokens": 0,
      "reasoningTokens": 704
    },
    skipped: ["mcp_list_tools", "mcp_call"]
  },
  {
    file: "openai/responses/openai-phase.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_0a63f40a2632b74300699f8818e5648196a8fa657ae8091421",
    model: "gpt-5.3-codex",
    text: {
      "length": 1638,
      "sha256": "421a0728060489f0fdc7b289d052876f049991efee71644b9b865904ac4ca407",
      "head": "Got it — I’ll quickly check reliable, up"
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 7112,
      "outputTokens": 463,
      "totalTokens": 7575,
      "cachedInputTokens": 3072,
      "reasoningTokens": 64
    },
    skipped: []
  },
  {
    file: "openai/responses/openai-phase.1.json",
    kind: "json",
    id: "resp_0465b6d1ae1f97c500699f88318ee481a3b627f7fcb4875152",
    model: "gpt-5.3-codex",
    text: {
      "length": 1366,
      "sha256": "2c77b308be672eabc1e52c18fed5aefe89a69d249eea806455305c04ab2029b4",
      "head": "I’ll quickly check reliable, up-to-date "
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 7243,
      "outputTokens": 423,
      "totalTokens": 7666,
      "cachedInputTokens": 3072,
      "reasoningTokens": 58
    },
    skipped: []
  },
  {
    file: "openai/responses/openai-reasoning-encrypted-content.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 4,
    id: "resp_01830d662ab3856501693c321345c88190b0de00f3b9975691",
    model: "gpt-5.1-codex-max",
    text: undefined,
    reasoning: {
      "length": 163,
      "sha256": "e8c4cd892aeccd1f8e73cda6a54a4a99b2a196820ce3b796f249d2aabb14a695",
      "head": "**Calculating step-by-step using calcula"
    },
    toolCalls: [{
      "id": "call_AB6AaRZ1FYZB2RwS6A5vbdqn",
      "name": "calculator",
      "rawArguments": "{\"a\":12,\"b\":7,\"op\":\"add\"}"
    }],
    finishReason: "tool_calls",
    usage: { "inputTokens": 134, "outputTokens": 28, "totalTokens": 162, "cachedInputTokens": 0, "reasoningTokens": 0 },
    skipped: []
  },
  {
    file: "openai/responses/openai-reasoning-encrypted-content.1.chunks.txt",
    kind: "stream",
    step: 1,
    steps: 4,
    id: "resp_01830d662ab3856501693c3215903881909b710d150ff65014",
    model: "gpt-5.1-codex-max",
    text: undefined,
    reasoning: undefined,
    toolCalls: [{
      "id": "call_Q6pW65MUgW9vF59BmItYGos3",
      "name": "calculator",
      "rawArguments": "{\"a\":19,\"b\":3,\"op\":\"multiply\"}"
    }],
    finishReason: "tool_calls",
    usage: { "inputTokens": 221, "outputTokens": 26, "totalTokens": 247, "cachedInputTokens": 0, "reasoningTokens": 0 },
    skipped: []
  },
  {
    file: "openai/responses/openai-reasoning-encrypted-content.1.chunks.txt",
    kind: "stream",
    step: 2,
    steps: 4,
    id: "resp_01830d662ab3856501693c3216bef88190bf0e034cff24137b",
    model: "gpt-5.1-codex-max",
    text: undefined,
    reasoning: undefined,
    toolCalls: [{
      "id": "call_Zl5vIMnD7dVAjgU6FkhmiCZh",
      "name": "calculator",
      "rawArguments": "{\"a\":57,\"b\":10,\"op\":\"multiply\"}"
    }],
    finishReason: "tool_calls",
    usage: { "inputTokens": 260, "outputTokens": 26, "totalTokens": 286, "cachedInputTokens": 0, "reasoningTokens": 0 },
    skipped: []
  },
  {
    file: "openai/responses/openai-reasoning-encrypted-content.1.chunks.txt",
    kind: "stream",
    step: 3,
    steps: 4,
    id: "resp_01830d662ab3856501693c3217ba4c8190a3ddf6c839d4f12a",
    model: "gpt-5.1-codex-max",
    text: {
      "length": 28,
      "sha256": "f0bb39f8205bfbaba21c3ff24dcd0757d79ec3c4cf162eb5988e6441b20d5d38",
      "head": "The final result is **570**."
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: { "inputTokens": 299, "outputTokens": 12, "totalTokens": 311, "cachedInputTokens": 0, "reasoningTokens": 0 },
    skipped: []
  },
  {
    file: "openai/responses/openai-reasoning-encrypted-content.1.json",
    kind: "json",
    id: "resp_0f35ed53160b395301693cc957829881909359e7f80cdd20b5",
    model: "gpt-5-mini-2025-08-07",
    text: {
      "length": 56,
      "sha256": "e60f32941df67277ba718755569c19e9314eb9670f8ea509150913e996f2d5ea",
      "head": "12 + 7 = 19\n19 × 3 = 57\n57 × 10 = 570\n\nF"
    },
    reasoning: {
      "length": 399,
      "sha256": "1fd85f8891168b9b831d8dc386bee5b90c2acbf9012410f977547e44d93c4f51",
      "head": "**Reporting final result**\n\nThe tool ret"
    },
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 865,
      "outputTokens": 163,
      "totalTokens": 1028,
      "cachedInputTokens": 0,
      "reasoningTokens": 128
    },
    skipped: []
  },
  {
    file: "openai/responses/openai-shell-container-multiturn.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_07226f71de51f72b006994e63fe86881a3ac247b9463ce4550",
    model: "gpt-5.2-2025-12-11",
    text: {
      "length": 50,
      "sha256": "dd6c6d1043d2fa4c90831d5db379f4d64443b95622482380b4b2645b68a5cadb",
      "head": "The architecture is **x86_64** (64-bit I"
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: { "inputTokens": 802, "outputTokens": 20, "totalTokens": 822, "cachedInputTokens": 0, "reasoningTokens": 0 },
    skipped: []
  },
  {
    file: "openai/responses/openai-shell-container-multiturn.1.json",
    kind: "json",
    id: "resp_0fc28e14d2bb7565006994e620e9a481918bd0eddc3a47411e",
    model: "gpt-5.2-2025-12-11",
    text: {
      "length": 30,
      "sha256": "be51a02cedab957e6f874257e027dd27dbd0cc7ce3ffa4a757674d06094616cc",
      "head": "`x86_64` (64-bit x86 / AMD64)."
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: { "inputTokens": 800, "outputTokens": 19, "totalTokens": 819, "cachedInputTokens": 0, "reasoningTokens": 0 },
    skipped: []
  },
  {
    file: "openai/responses/openai-shell-container.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f",
    model: "gpt-5.2-2025-12-11",
    text: {
      "length": 29,
      "sha256": "ef4d813340d88aa26020ed445544923406380b7537d62ba836bfd20603b2351d",
      "head": "The command ran successfully."
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 200,
      "outputTokens": 120,
      "totalTokens": 320,
      "cachedInputTokens": 0,
      "reasoningTokens": 0
    },
    skipped: ["shell_call", "shell_call_output"]
  },
  {
    file: "openai/responses/openai-shell-container.1.json",
    kind: "json",
    id: "resp_0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f",
    model: "gpt-5.2-2025-12-11",
    text: {
      "length": 190,
      "sha256": "f25bdf8386cdd1027535f6045222e9640b6a630cac8b53adb5d81c7c01e46e8f",
      "head": "The command ran successfully in the cont"
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 200,
      "outputTokens": 120,
      "totalTokens": 320,
      "cachedInputTokens": 0,
      "reasoningTokens": 0
    },
    skipped: ["shell_call", "shell_call_output"]
  },
  {
    file: "openai/responses/openai-shell-local-multiturn.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_0b0392bd3bb81302006994e83ac0ac819396f3f5aa5f239e03",
    model: "gpt-5.2-2025-12-11",
    text: {
      "length": 24,
      "sha256": "7deb438ce4165328c7334b70d46632cbbe66c13706e2e2a1b51adef33ed27dfa",
      "head": "`arm64` (Apple Silicon)."
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: { "inputTokens": 444, "outputTokens": 12, "totalTokens": 456, "cachedInputTokens": 0, "reasoningTokens": 0 },
    skipped: []
  },
  {
    file: "openai/responses/openai-shell-local-multiturn.1.json",
    kind: "json",
    id: "resp_06a97f431a8c75fa006994e8315b948190b6dc8aec4581c6c9",
    model: "gpt-5.2-2025-12-11",
    text: {
      "length": 24,
      "sha256": "7deb438ce4165328c7334b70d46632cbbe66c13706e2e2a1b51adef33ed27dfa",
      "head": "`arm64` (Apple Silicon)."
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: { "inputTokens": 444, "outputTokens": 12, "totalTokens": 456, "cachedInputTokens": 0, "reasoningTokens": 0 },
    skipped: []
  },
  {
    file: "openai/responses/openai-shell-skills.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_049350089f7281c400698f717727d08191a446ae1621ed9503",
    model: "gpt-5.2-2025-12-11",
    text: {
      "length": 951,
      "sha256": "7e24e845038b337ecc426731edbf41d2e0aaff245d164000000d510b7dbb0e14",
      "head": "Build a STOP large signal STOP on the ST"
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 1501,
      "outputTokens": 314,
      "totalTokens": 1815,
      "cachedInputTokens": 1024,
      "reasoningTokens": 100
    },
    skipped: ["shell_call", "shell_call_output"]
  },
  {
    file: "openai/responses/openai-shell-skills.1.json",
    kind: "json",
    id: "resp_01b6b3812d7541bd00698f7197d5bc81969c3d2a134af0cb66",
    model: "gpt-5.2-2025-12-11",
    text: {
      "length": 1022,
      "sha256": "ccc3672ba5d8275e6628f6329a84513094b1ed33cb1054cf91ceeca73da80f72",
      "head": "Build a STOP huge signal STOP on the STO"
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 1499,
      "outputTokens": 331,
      "totalTokens": 1830,
      "cachedInputTokens": 1024,
      "reasoningTokens": 100
    },
    skipped: ["shell_call", "shell_call_output"]
  },
  {
    file: "openai/responses/openai-shell-tool.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 2,
    id: "resp_0434d6d64b12b08900692f639c40408195a50fd07b77ce08a7",
    model: "gpt-5.1-2025-11-13",
    text: undefined,
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: { "inputTokens": 145, "outputTokens": 41, "totalTokens": 186, "cachedInputTokens": 0, "reasoningTokens": 0 },
    skipped: ["shell_call"]
  },
  {
    file: "openai/responses/openai-shell-tool.1.chunks.txt",
    kind: "stream",
    step: 1,
    steps: 2,
    id: "resp_0434d6d64b12b08900692f639d784481959af65f985b9c13e2",
    model: "gpt-5.1-2025-11-13",
    text: {
      "length": 426,
      "sha256": "a1565f2607db51154177d58adb3b0217fd6e68049e7619e70c66b0179cb40781",
      "head": "Here are the files and folders in your `"
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 331,
      "outputTokens": 166,
      "totalTokens": 497,
      "cachedInputTokens": 0,
      "reasoningTokens": 0
    },
    skipped: []
  },
  {
    file: "openai/responses/openai-shell-tool.1.json",
    kind: "json",
    id: "resp_0f0d479976b1e9a600692f61be5948819783b655c7a54af2a2",
    model: "gpt-5.1-2025-11-13",
    text: undefined,
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: { "inputTokens": 157, "outputTokens": 73, "totalTokens": 230, "cachedInputTokens": 0, "reasoningTokens": 0 },
    skipped: ["shell_call"]
  },
  {
    file: "openai/responses/openai-tool-search.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_08a14073c7135dc10069aa68621de481908b2fc660fb4fc0af",
    model: "gpt-5.4-2026-03-05",
    text: undefined,
    reasoning: undefined,
    toolCalls: [{
      "id": "call_pddfxhfOx4gY56zn4vIIEbFp",
      "name": "get_weather",
      "rawArguments": "{\"location\":\"San Francisco, CA\",\"unit\":\"fahrenheit\"}"
    }],
    finishReason: "tool_calls",
    usage: {
      "inputTokens": 640,
      "outputTokens": 46,
      "totalTokens": 686,
      "cachedInputTokens": 0,
      "reasoningTokens": 20
    },
    skipped: ["tool_search_call", "tool_search_output"]
  },
  {
    file: "openai/responses/openai-tool-search.1.json",
    kind: "json",
    id: "resp_04bd69550b37ba260069aa689530d0819094482b7c14059a0f",
    model: "gpt-5.4-2026-03-05",
    text: undefined,
    reasoning: undefined,
    toolCalls: [{
      "id": "call_ytqozXvUXG8NN1b0IODxzUaE",
      "name": "get_weather",
      "rawArguments": "{\"location\":\"San Francisco, CA\",\"unit\":\"fahrenheit\"}"
    }],
    finishReason: "tool_calls",
    usage: {
      "inputTokens": 640,
      "outputTokens": 46,
      "totalTokens": 686,
      "cachedInputTokens": 0,
      "reasoningTokens": 20
    },
    skipped: ["tool_search_call", "tool_search_output"]
  },
  {
    file: "openai/responses/openai-web-search-tool.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_0cc96ac817fdc57e00693337060a408198b92bf1f99cf1b8ec",
    model: "gpt-5-mini-2025-08-07",
    text: {
      "length": 3645,
      "sha256": "d24e6afa468991752aea3a4bd29287ad4dc31cbe5f3b5cac742f2e0713cf2da0",
      "head": "I checked today’s tech headlines (today "
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 31073,
      "outputTokens": 4416,
      "totalTokens": 35489,
      "cachedInputTokens": 3712,
      "reasoningTokens": 3712
    },
    skipped: ["web_search_call"]
  },
  {
    file: "openai/responses/openai-web-search-tool.1.json",
    kind: "json",
    id: "resp_0953eda47ee17412006933306199c88195b44f9cf2986e1d5b",
    model: "gpt-5-mini-2025-08-07",
    text: {
      "length": 3042,
      "sha256": "68be198c23081c0cf3c1a21fd8c8c0eb0d267a29639a886ee993970a375a35b0",
      "head": "Short answer first — yes. I pulled sever"
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 19681,
      "outputTokens": 3773,
      "totalTokens": 23454,
      "cachedInputTokens": 3712,
      "reasoningTokens": 3136
    },
    skipped: ["web_search_call"]
  },
  {
    file: "openai/responses/parallel-tool-call-wrapper.1.json",
    kind: "json",
    id: "resp_parallel",
    model: "gpt-5.4",
    text: undefined,
    reasoning: undefined,
    toolCalls: [{
      "id": "call_parallel",
      "name": "parallel",
      "rawArguments":
        "{\"tool_uses\":[{\"recipient_name\":\"functions.weather\",\"parameters\":{\"location\":\"San Francisco\"}},{\"recipient_name\":\"functions.cityAttractions\",\"parameters\":{\"city\":\"Rome\"}}]}"
    }],
    finishReason: "tool_calls",
    usage: { "inputTokens": 34, "outputTokens": 28, "totalTokens": 62, "cachedInputTokens": 0, "reasoningTokens": 0 },
    skipped: []
  },
  {
    file: "openai/responses/programmatic-tool-calling.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_0bac52ec5f239d30016a6145ff09a4819291ced3bf727cda6b",
    model: "gpt-5.6-sol",
    text: undefined,
    reasoning: undefined,
    toolCalls: [{
      "id": "call_VgDSZztLociNcutQZWkC2fmL",
      "name": "getInventory",
      "rawArguments": "{\"sku\":\"sku_123\"}"
    }],
    finishReason: "tool_calls",
    usage: {
      "inputTokens": 631,
      "outputTokens": 87,
      "totalTokens": 718,
      "cachedInputTokens": 0,
      "cacheWriteTokens": 0,
      "reasoningTokens": 37
    },
    skipped: ["program"]
  },
  {
    file: "openai/responses/programmatic-tool-calling.1.json",
    kind: "json",
    id: "resp_0742d30c1d273351016a6145ef9a28819fa909a12fb4ce083c",
    model: "gpt-5.6-sol",
    text: undefined,
    reasoning: undefined,
    toolCalls: [{
      "id": "call_rj6LW6NEyodD5YVKeoexoLNz",
      "name": "getInventory",
      "rawArguments": "{\"sku\":\"sku_123\"}"
    }],
    finishReason: "tool_calls",
    usage: {
      "inputTokens": 631,
      "outputTokens": 139,
      "totalTokens": 770,
      "cachedInputTokens": 0,
      "cacheWriteTokens": 0,
      "reasoningTokens": 55
    },
    skipped: ["program"]
  },
  {
    file: "openai/responses/programmatic-tool-calling.2.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_0bac52ec5f239d30016a614600c5d08192922272df0fea908a",
    model: "gpt-5.6-sol",
    text: undefined,
    reasoning: undefined,
    toolCalls: [{
      "id": "call_8GZvm5Bs4q0YSJIFH8hZeIcp",
      "name": "getDemand",
      "rawArguments": "{\"sku\":\"sku_123\"}"
    }],
    finishReason: "tool_calls",
    usage: {
      "inputTokens": 0,
      "outputTokens": 0,
      "totalTokens": 0,
      "cachedInputTokens": 0,
      "cacheWriteTokens": 0,
      "reasoningTokens": 0
    },
    skipped: []
  },
  {
    file: "openai/responses/programmatic-tool-calling.2.json",
    kind: "json",
    id: "resp_0742d30c1d273351016a6145f224e8819f80365e20d2fc5046",
    model: "gpt-5.6-sol",
    text: undefined,
    reasoning: undefined,
    toolCalls: [{
      "id": "call_IYnPSr6i8TyBPs1H9U539pUP",
      "name": "getDemand",
      "rawArguments": "{\"sku\":\"sku_123\"}"
    }],
    finishReason: "tool_calls",
    usage: {
      "inputTokens": 0,
      "outputTokens": 0,
      "totalTokens": 0,
      "cachedInputTokens": 0,
      "cacheWriteTokens": 0,
      "reasoningTokens": 0
    },
    skipped: []
  },
  {
    file: "openai/responses/programmatic-tool-calling.3.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "resp_0bac52ec5f239d30016a6146034ee08192889c75b6ef1d0922",
    model: "gpt-5.6-sol",
    text: {
      "length": 127,
      "sha256": "8e65c893eed53e0a50acfac6446fbcf6c8109e66aabfcc45eb937de5fab96acc",
      "head": "Inventory is sufficient for `sku_123`: *"
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 757,
      "outputTokens": 35,
      "totalTokens": 792,
      "cachedInputTokens": 0,
      "cacheWriteTokens": 0,
      "reasoningTokens": 0
    },
    skipped: ["program_output"]
  },
  {
    file: "openai/responses/programmatic-tool-calling.3.json",
    kind: "json",
    id: "resp_0742d30c1d273351016a6145f48170819f9d1cdfc7d5d7887a",
    model: "gpt-5.6-sol",
    text: {
      "length": 238,
      "sha256": "65c43843862bf732ab45b390c767b1ddbe5a03009dfa8d48cf73376096259b8a",
      "head": "Inventory is sufficient for `sku_123`: *"
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 802,
      "outputTokens": 58,
      "totalTokens": 860,
      "cachedInputTokens": 0,
      "cacheWriteTokens": 0,
      "reasoningTokens": 0
    },
    skipped: ["program_output"]
  },
  {
    file: "xai/responses/xai-code-execution-tool.1.json",
    kind: "json",
    id: "5138abcf-4c4e-b0ab-7e0b-f4c81b98f455_us-east-1",
    model: "grok-4-fast-reasoning",
    text: { "length": 2, "sha256": "02d20bbd7e394ad5999a4cebabac9619732c343a4cac99470c03e23ba2bdc2bc", "head": "55" },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 1606,
      "outputTokens": 292,
      "totalTokens": 1898,
      "cachedInputTokens": 1235,
      "reasoningTokens": 190
    },
    skipped: ["code_interpreter_call"]
  },
  {
    file: "xai/responses/xai-file-search-tool.1.json",
    kind: "json",
    id: "resp_file_search_123",
    model: "grok-4-fast-non-reasoning",
    text: {
      "length": 261,
      "sha256": "90fcc3ef3ca24f6ac0aa21f6548e82f3a1955044d4d41dd460423d14ac7dc1a8",
      "head": "Based on the documents in your collectio"
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 500,
      "outputTokens": 150,
      "totalTokens": 650,
      "cachedInputTokens": 0,
      "reasoningTokens": 0
    },
    skipped: ["file_search_call"]
  },
  {
    file: "xai/responses/xai-image-generation-tool.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "00000000-0000-4000-8000-000000000002",
    model: "grok-4.5",
    text: {
      "length": 69,
      "sha256": "a88c1ce9bb1a4013b8f481e79e1bcfb07aae014f92360d3e8c29c698c9dac4fb",
      "head": "Here's a serene image of a paper boat sa"
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 100,
      "outputTokens": 50,
      "totalTokens": 150,
      "cachedInputTokens": 20,
      "reasoningTokens": 30
    },
    skipped: ["image_generation_call"]
  },
  {
    file: "xai/responses/xai-image-generation-tool.1.json",
    kind: "json",
    id: "00000000-0000-4000-8000-000000000001",
    model: "grok-4.5",
    text: {
      "length": 42,
      "sha256": "5365f2204cdb42e70bcfd5fd7ebee8e16e625a21e2413a9f8377b819a9408d22",
      "head": "Here's a cute robot holding a flower! 🌸🤖"
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 100,
      "outputTokens": 50,
      "totalTokens": 150,
      "cachedInputTokens": 20,
      "reasoningTokens": 30
    },
    skipped: ["image_generation_call"]
  },
  {
    file: "xai/responses/xai-text-streaming.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "769f3302-64f9-4c72-2b48-860c87fd9b2a",
    model: "grok-code-fast-1",
    text: {
      "length": 3068,
      "sha256": "895b5bf7b0ca480d0b1f32391beb3dc1edb17a68e640e343d0a542a29c89aa12",
      "head": "### Overview of Sonoran Cuisine\nSonoran "
    },
    reasoning: {
      "length": 569,
      "sha256": "78d68106000aabbe967073747dc46b9bed46fdacf226cdc5cb8eb51c4ab4b6e9",
      "head": "First, the question is: \"What is specifi"
    },
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 216,
      "outputTokens": 863,
      "totalTokens": 1079,
      "cachedInputTokens": 192,
      "reasoningTokens": 237
    },
    skipped: []
  },
  {
    file: "xai/responses/xai-text-with-reasoning-streaming-store-false.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "0b824fe9-3250-2588-0bbf-0810402fc822",
    model: "grok-code-fast-1",
    text: {
      "length": 2786,
      "sha256": "5d8c257390c6c8713aeee5f8c9cda8950d606275b7f536c2dd619d885c4d3112",
      "head": "### Overview of Sonoran Cuisine\nSonoran "
    },
    reasoning: {
      "length": 754,
      "sha256": "9a3bf7461267a1f13d08cd6add0e66bf15c4796b4ac0f38a19db8b6c0f2f8098",
      "head": "First, the question is: \"What is specifi"
    },
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 216,
      "outputTokens": 831,
      "totalTokens": 1047,
      "cachedInputTokens": 192,
      "reasoningTokens": 253
    },
    skipped: []
  },
  {
    file: "xai/responses/xai-text-with-reasoning-streaming.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "bf3b2b34-79d4-a45c-7be8-d1e5f96386c2",
    model: "grok-code-fast-1",
    text: {
      "length": 2849,
      "sha256": "2a7a28eb233e9174cb778341218c6b85861c92c6b9ba776f125116ca54440f1b",
      "head": "### Overview of Sonoran Cuisine\nSonoran "
    },
    reasoning: {
      "length": 766,
      "sha256": "88bee32a92a85ee35b48999fe3da18cff4e8a9edd4032dd2e90d06e2cccf1343",
      "head": "First, the question is: \"What is specifi"
    },
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 216,
      "outputTokens": 923,
      "totalTokens": 1139,
      "cachedInputTokens": 192,
      "reasoningTokens": 323
    },
    skipped: []
  },
  {
    file: "xai/responses/xai-web-search-tool.1.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "98a8d4aa-fc8b-fd93-e673-d5a8f1c9cee8",
    model: "grok-4-fast-reasoning",
    text: {
      "length": 1228,
      "sha256": "aaedcde3798be1657971be6270dc58a8447f9deee7c8a4c73d2112c6ed3336d6",
      "head": "xAI is an American artificial intelligen"
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 1875,
      "outputTokens": 695,
      "totalTokens": 2570,
      "cachedInputTokens": 1578,
      "reasoningTokens": 397
    },
    skipped: ["web_search_call"]
  },
  {
    file: "xai/responses/xai-web-search-tool.1.json",
    kind: "json",
    id: "25de2f84-163c-6e9e-e42e-cd1dbd6f9ed0",
    model: "grok-4-fast-reasoning",
    text: {
      "length": 799,
      "sha256": "89bfebb41668467ed66ba93390dc04860fe0a5c8ffac9bf59450f9e71818de42",
      "head": "xAI is an American artificial intelligen"
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 1941,
      "outputTokens": 583,
      "totalTokens": 2524,
      "cachedInputTokens": 947,
      "reasoningTokens": 380
    },
    skipped: ["web_search_call"]
  },
  {
    file: "xai/responses/xai-x-search-tool.1.json",
    kind: "json",
    id: "84c1a8ea-1f29-4a33-1049-0ed3561b0f64_us-east-1",
    model: "grok-4-fast-reasoning",
    text: {
      "length": 5180,
      "sha256": "a393eb79f5e38e5aadb7be37623c063005237386f142656424e9b33facb2e2d8",
      "head": "### What People Are Saying About AI on X"
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 8397,
      "outputTokens": 1805,
      "totalTokens": 10202,
      "cachedInputTokens": 608,
      "reasoningTokens": 580
    },
    skipped: ["x_search_call"]
  },
  {
    file: "xai/responses/xai-x-search-tool.chunks.txt",
    kind: "stream",
    step: 0,
    steps: 1,
    id: "b7b464ea-cc85-d44a-0f2f-1f7320e703c3",
    model: "grok-4-fast-reasoning",
    text: {
      "length": 6304,
      "sha256": "14a6dbdf5ddd2d303d2ad903b69dcc7f8e5870b1fcbe9f2aed6ecb033ead8564",
      "head": "### Latest Videos and Images from xAI on"
    },
    reasoning: undefined,
    toolCalls: [],
    finishReason: "stop",
    usage: {
      "inputTokens": 27236,
      "outputTokens": 3077,
      "totalTokens": 30313,
      "cachedInputTokens": 4585,
      "reasoningTokens": 1091
    },
    skipped: ["custom_tool_call", "web_search_call"]
  }
]
