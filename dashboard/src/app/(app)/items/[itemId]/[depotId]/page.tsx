import { ItemDepot } from "./ItemDepot";

export default async function ItemDepotPage({ params }: { params: Promise<{ itemId: string; depotId: string }> }) {
  const { itemId, depotId } = await params;
  return <ItemDepot itemId={decodeURIComponent(itemId)} depotId={decodeURIComponent(depotId)} />;
}
