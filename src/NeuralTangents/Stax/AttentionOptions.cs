namespace NeuralTangents.Stax;

/// <summary>Transformation of the attention logits in <see cref="Stax.GlobalSelfAttention"/> (Stax's <c>attention_mechanism</c>).</summary>
public enum AttentionMechanism
{
    /// <summary><c>"SOFTMAX"</c> over the key positions (the default).</summary>
    Softmax,
    /// <summary><c>"IDENTITY"</c>: the logits themselves.</summary>
    Identity,
    /// <summary><c>"ABS"</c>: their absolute values.</summary>
    Abs,
    /// <summary><c>"RELU"</c>: <c>max(logits, 0)</c>.</summary>
    Relu,
}

/// <summary>Positional embeddings of <see cref="Stax.GlobalSelfAttention"/> (Stax's <c>pos_emb_type</c>).</summary>
public enum PositionalEmbedding
{
    /// <summary><c>"NONE"</c> (the default).</summary>
    None,
    /// <summary><c>"SUM"</c>: a learned <c>(1, spatial…, C)</c> embedding added to the inputs.</summary>
    Sum,
    /// <summary><c>"CONCAT"</c>: a learned <c>(1, spatial…, n_chan_pos_emb)</c> embedding concatenated to the channels.</summary>
    Concat,
}
