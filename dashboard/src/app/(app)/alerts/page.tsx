import { AlertsFeed } from "./AlertsFeed";

export default function AlertsPage() {
  return <AlertsFeed />;
}
