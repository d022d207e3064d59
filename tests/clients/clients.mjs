// Real clients that no one here wrote, the official `ollama` and `openai`
// npm packages (versions pinned in package-lock.json), against the URL in
// SERVE_URL: `node clients.mjs CASE` runs one case, prints what it saw, and
// exits 1 when the client failed or its answer was not what the server API
// promises. Used by tests/e2e/test_clients.sh through `modelctl serve`.
import { Ollama } from 'ollama';
import OpenAI from 'openai';

const url = process.env.SERVE_URL;
if (!url) {
    console.error('clients.mjs: set SERVE_URL');
    process.exit(2);
}
const ollama = new Ollama({ host: url });
const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });

function expect(condition, what, seen) {
    if (!condition)
        throw new Error(`${what}; saw ${JSON.stringify(seen).slice(0, 600)}`);
}

const CHAT = 'llama3.2:1b';
const EMBED = 'nomic-embed-text:latest';
const LMS = 'qwen2.5-coder-7b'; // an LM Studio model, for serve in front of both

const cases = {
    async list() {
        const r = await ollama.list();
        expect(r.models.some((m) => m.name === CHAT && m.size > 0), `list names ${CHAT}`, r);
    },
    async show() {
        const r = await ollama.show({ model: CHAT });
        expect(r.details && r.details.family && r.model_info, 'show has details and model_info', r);
        expect(r.model_info['general.parameter_count'] > 1e9, 'show has the parameter count', r.model_info);
    },
    async generate() {
        const r = await ollama.generate({ model: CHAT, prompt: 'hi', options: { num_predict: 8 } });
        expect(r.done && r.response.length > 0 && r.eval_count === 8, 'a whole answer of 8 tokens', r);
        expect(Array.isArray(r.context) && r.context.length > 0, 'the final answer carries context', r);
    },
    async generate_stream() {
        let parts = 0, last;
        for await (const part of await ollama.generate({ model: CHAT, prompt: 'hi', stream: true, options: { num_predict: 12 } })) {
            parts++;
            last = part;
        }
        expect(parts >= 12 && last.done && last.eval_count === 12, 'a stream of 12 pieces and a done line', { parts, last });
    },
    async ps() {
        const r = await ollama.ps();
        expect(r.models.some((m) => m.name === CHAT && m.size_vram > 0), `ps shows ${CHAT} loaded`, r);
    },
    async chat() {
        const r = await ollama.chat({ model: CHAT, messages: [{ role: 'user', content: 'hi' }], options: { num_predict: 6 } });
        expect(r.done && r.message.role === 'assistant' && r.message.content.length > 0, 'an assistant message', r);
    },
    async chat_stream() {
        let text = '', last;
        for await (const part of await ollama.chat({ model: CHAT, messages: [{ role: 'user', content: 'hi' }], stream: true, options: { num_predict: 10 } })) {
            text += part.message.content;
            last = part;
        }
        expect(text.length > 0 && last.done && last.eval_count === 10, 'a streamed chat ending with its counts', { text, last });
    },
    async chat_tools() {
        const tools = [{ type: 'function', function: { name: 'get_weather', description: 'the weather', parameters: { type: 'object', properties: {} } } }];
        const r = await ollama.chat({ model: CHAT, messages: [{ role: 'user', content: 'weather?' }], tools });
        const calls = r.message.tool_calls || [];
        expect(calls.length === 1 && calls[0].function.name === 'get_weather', 'a call of the tool offered', r.message);
    },
    async embed() {
        const r = await ollama.embed({ model: EMBED, input: ['one', 'two'] });
        expect(r.embeddings.length === 2 && r.embeddings[0].length === 768, 'two 768-wide embeddings', { n: r.embeddings.length });
    },
    async pull() {
        let statuses = [];
        for await (const p of await ollama.pull({ model: 'qwen2.5-coder:1.5b', stream: true }))
            statuses.push(p.status);
        expect(statuses.at(-1) === 'success' && statuses.length > 2, 'pull progress ending in success', statuses);
    },
    async openai_models() {
        const ids = [];
        for await (const m of openai.models.list())
            ids.push(m.id);
        expect(ids.includes(CHAT), `the models list has ${CHAT}`, ids);
    },
    async openai_chat() {
        const r = await openai.chat.completions.create({ model: CHAT, messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 });
        expect(r.choices[0].message.content.length > 0 && r.usage.completion_tokens === 5, 'an answer and its usage', r);
    },
    async openai_chat_stream() {
        const stream = await openai.chat.completions.create({
            model: CHAT, messages: [{ role: 'user', content: 'hi' }], max_tokens: 9, stream: true,
            stream_options: { include_usage: true },
        });
        let text = '', usage = null, chunks = 0;
        for await (const c of stream) {
            chunks++;
            if (c.choices.length)
                text += c.choices[0].delta.content || '';
            if (c.usage)
                usage = c.usage;
        }
        expect(text.length > 0 && chunks >= 9, 'streamed text in pieces', { text, chunks });
        expect(usage && usage.completion_tokens === 9 && usage.prompt_tokens > 0, 'the usage chunk at the end', usage);
    },
    async openai_embeddings() {
        const r = await openai.embeddings.create({ model: EMBED, input: 'one' });
        expect(r.data.length === 1 && r.data[0].embedding.length === 768, 'one 768-wide embedding', { n: r.data.length });
    },
    // serve in front of an Ollama and an LM Studio (the front_ cases).
    async front_list() {
        const r = await ollama.list();
        expect(r.models.some((m) => m.name === CHAT) && r.models.some((m) => m.name === LMS && m.size > 0),
            `list names ${CHAT} (Ollama) and ${LMS} (LM Studio)`, r);
    },
    async front_openai() {
        const ids = [];
        for await (const m of openai.models.list())
            ids.push(m.id);
        expect(ids.includes(CHAT) && ids.includes(LMS), `the models list has ${CHAT} and ${LMS}`, ids);
        const r = await openai.chat.completions.create({ model: LMS, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 });
        expect(r.model === LMS && r.usage.completion_tokens === 4, `an answer from ${LMS}`, r);
    },
    async front_ps() {
        const r = await ollama.ps();
        expect(r.models.some((m) => m.name === LMS && m.size > 0), `ps shows ${LMS} loaded on LM Studio`, r);
    },
    async refused() {
        // A model past the budget: the client sees the server's own error.
        try {
            await ollama.generate({ model: 'llama3.3:70b', prompt: 'hi' });
        } catch (e) {
            expect(e.status_code === 500 && /budget/.test(e.error), 'a 500 naming the budget', { status: e.status_code, error: e.error });
            return;
        }
        throw new Error('the load was not refused');
    },
};

const name = process.argv[2];
if (!cases[name]) {
    console.error(`clients.mjs: no case '${name}'; cases: ${Object.keys(cases).join(' ')}`);
    process.exit(2);
}
try {
    await cases[name]();
} catch (e) {
    console.log(String(e && e.stack ? e.stack : e));
    process.exit(1);
}
