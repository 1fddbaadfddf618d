import { onScopeDispose, shallowRef, type Ref } from "vue";

/** The current time, refreshed every `intervalMs`, for durations that tick. */
export function useNow(intervalMs = 1_000): Readonly<Ref<number>> {
  const now = shallowRef(Date.now());
  const timer = setInterval(() => (now.value = Date.now()), intervalMs);
  onScopeDispose(() => clearInterval(timer));
  return now;
}
