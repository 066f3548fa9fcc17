import { WorkList } from "./WorkList";

export default function WorkPage() {
  return <WorkList />;
}
