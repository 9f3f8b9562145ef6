"""Per-level class probabilities of a hierarchical prediction."""
import torch

from ..hierarchy import ClassHierarchy

__all__ = ['level_probabilities']


def level_probabilities(hierarchy: ClassHierarchy, sample) -> dict:
    """Per-level class probabilities ``(C_k, H, W)`` of one prediction.

    ``'consistent'`` decoding: the softmax of the leaf scores, summed
    over each coarse class's leaves (the label maps are the tree-derived
    argmax of the leaf, which the summed probabilities of a coarse level
    may rank differently). ``'independent'``: each level's softmax.

    Args:
        hierarchy (ClassHierarchy): The model's tree.
        sample (SegDataSample): A prediction.

    Returns:
        dict[str, np.ndarray]: Level name -> float32 probabilities.
    """
    h = hierarchy
    leaf = torch.softmax(sample.seg_logits.data.float(), dim=0)
    out = {}
    for k, level in enumerate(h.level_names):
        field = h.field(k, 'seg_logits')
        if k != h.leaf_level and field in sample:
            p = torch.softmax(sample.get(field).data.float(), dim=0)
        elif k != h.leaf_level:
            idx = torch.tensor(h.lut(k), device=leaf.device)
            p = leaf.new_zeros((h.num_classes[k], ) + leaf.shape[1:])
            p.index_add_(0, idx, leaf)
        else:
            p = leaf
        out[level] = p.cpu().numpy()
    return out
