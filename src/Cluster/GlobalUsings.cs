global using NeuralTangents.Tensors;
