import { createApp } from "vue";
import "./styles/base.css";
import "./styles/lists.css";
import AgentPage from "./pages/AgentPage.vue";

createApp(AgentPage).mount("#app");
