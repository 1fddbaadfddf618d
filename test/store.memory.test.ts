import { MemoryStore } from "../server/store/memory.js";
import { storeContract } from "./store.contract.js";

storeContract("memory", async () => new MemoryStore());
