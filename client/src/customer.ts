import { createApp } from "vue";
import "./styles/base.css";
import CustomerPage from "./pages/CustomerPage.vue";

createApp(CustomerPage).mount("#app");
