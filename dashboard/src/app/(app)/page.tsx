import { Overview } from "./Overview";

export default function OverviewPage() {
  return <Overview />;
}
