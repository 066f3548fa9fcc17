import { Pipeline } from "./Pipeline";

export default function PipelinePage() {
  return <Pipeline />;
}
