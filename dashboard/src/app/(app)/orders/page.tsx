import { Orders } from "./Orders";

export default function OrdersPage() {
  return <Orders />;
}
