import { shallowRef, type Ref } from "vue";
import type { Agent, Conversation, StartConversationInput } from "../../../shared/protocol.js";
import { api, ApiError } from "../api.js";

/**
 * Where a token lives. `localStorage` on the desk's own pages; the embeddable widget can
 * supply one backed by the host page (handed over by postMessage) instead.
 */
export interface TokenStore {
  get(): string | null;
  set(token: string): void;
  clear(): void;
}

export function localTokenStore(key: string): TokenStore {
  return {
    get: () => safely(() => localStorage.getItem(key)) ?? null,
    set: (token) => void safely(() => localStorage.setItem(key, token)),
    clear: () => void safely(() => localStorage.removeItem(key)),
  };
}

// Storage can throw (disabled cookies, private modes); the session then lasts the page.
function safely<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

export const CUSTOMER_TOKEN_KEY = "livedesk.customerToken";
export const AGENT_TOKEN_KEY = "livedesk.agentToken";

export interface CustomerSession {
  token: Readonly<Ref<string | null>>;
  /** Starts a conversation and keeps its token; throws `ApiError`. */
  start(input: StartConversationInput): Promise<Conversation>;
  /** Drops the token (after the chat ended, or when the desk no longer knows it). */
  forget(): void;
  /** Takes the store's token again (the widget's host handed one over after start-up). */
  reload(): void;
}

export function useCustomerSession(store: TokenStore = localTokenStore(CUSTOMER_TOKEN_KEY)): CustomerSession {
  const token = shallowRef(store.get());
  return {
    token,
    async start(input) {
      const { conversation, customerToken } = await api.startConversation(input);
      store.set(customerToken);
      token.value = customerToken;
      return conversation;
    },
    forget() {
      store.clear();
      token.value = null;
    },
    reload() {
      token.value = store.get();
    },
  };
}

export interface AgentSession {
  agent: Readonly<Ref<Agent | null>>;
  token: Readonly<Ref<string | null>>;
  /** True while a stored token is being checked at start-up. */
  restoring: Readonly<Ref<boolean>>;
  login(email: string, password: string): Promise<Agent>;
  logout(): Promise<void>;
  /** The desk refused our token (expired, revoked): back to the login form. */
  expire(): void;
}

export function useAgentSession(store: TokenStore = localTokenStore(AGENT_TOKEN_KEY)): AgentSession {
  const token = shallowRef(store.get());
  const agent = shallowRef<Agent | null>(null);
  const restoring = shallowRef(token.value !== null);

  const expire = () => {
    store.clear();
    token.value = null;
    agent.value = null;
  };

  if (token.value !== null) {
    api.me(token.value).then(
      (res) => (agent.value = res.agent),
      (err: unknown) => {
        // Only a refused credential ends the session; a network blip keeps the token.
        if (err instanceof ApiError && err.status === 401) expire();
      },
    ).finally(() => (restoring.value = false));
  }

  return {
    agent,
    token,
    restoring,
    async login(email, password) {
      const res = await api.login(email, password);
      store.set(res.token);
      token.value = res.token;
      agent.value = res.agent;
      return res.agent;
    },
    async logout() {
      const current = token.value;
      expire();
      await api.logout(current).catch(() => undefined);
    },
    expire,
  };
}
