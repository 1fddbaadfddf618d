/** The protocol's limits, for validating in the browser before the desk does. */
export { LIMITS } from "../../shared/limits.js";
